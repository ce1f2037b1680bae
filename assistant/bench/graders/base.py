"""What every grader returns, and the signature each one is registered under."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Grade:
    passed: bool
    score: float  # 0..1
    detail: str
    #: What could not be checked (e.g. no browser for the snake game).
    unverified: list[str] = field(default_factory=list)


#: A registered grader: (the model's answer, the task's `expected` table, the sources the answer
#: was given as dicts) -> Grade.
Grader = Callable[[str, Mapping[str, Any], Sequence[dict[str, Any]]], Grade]

#: Whitespace, punctuation and markup, removed before comparing texts.
PUNCT = re.compile(r"[\s，。！？；：、,.!?;:“”\"'《》()（）\[\]【】*#>`~_-]+")
