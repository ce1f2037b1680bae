"""Expected text: the answer contains all (or any) of some phrases, punctuation and case aside."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .base import PUNCT, Grade


def grade_contains(answer: str, expected: Sequence[str], any_of: bool = False) -> Grade:
    norm = PUNCT.sub("", answer).lower()
    hits = [e for e in expected if PUNCT.sub("", e).lower() in norm]
    ok = bool(hits) if any_of else len(hits) == len(expected)
    return Grade(ok, len(hits) / max(1, len(expected)), f"found {hits} of {list(expected)}")


def grade(answer: str, expected: Mapping[str, Any], sources: Sequence[dict[str, Any]]) -> Grade:
    """expected: {all_of: [...]} or {any_of: [...]}."""
    if "any_of" in expected:
        return grade_contains(answer, expected["any_of"], any_of=True)
    return grade_contains(answer, expected.get("all_of", []))
