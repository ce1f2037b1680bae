"""How much repeated answers to the same task agree (a measure, not a grader)."""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher


def stability(answers: Sequence[str]) -> float:
    """Mean pairwise similarity of repeated answers (1.0: identical), 1.0 for a single answer."""
    if len(answers) < 2:
        return 1.0
    pairs = [(a, b) for i, a in enumerate(answers) for b in answers[i + 1 :]]
    return sum(SequenceMatcher(None, a, b).ratio() for a, b in pairs) / len(pairs)
