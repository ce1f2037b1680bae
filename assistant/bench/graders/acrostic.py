"""The acrostic poem: consecutive lines of Chinese verse that begin with given characters."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from vectorstore.text import CJK_RE

from .base import PUNCT, Grade


def poem_lines(answer: str) -> list[str]:
    """Lines of Chinese verse in the answer (numbering, markup and punctuation stripped)."""
    lines = []
    for raw in re.split(r"[\n]|(?<=[。！？])", answer):
        line = re.sub(r"^\s*(?:\d+[.、)]|[-*>#]+)\s*", "", raw)
        line = re.sub(r"\*\*|__", "", line)
        cjk = "".join(CJK_RE.findall(line))
        if len(cjk) >= 2 and len(cjk) >= 0.8 * len(PUNCT.sub("", line) or "x"):
            lines.append(PUNCT.sub("", line))
    return lines


def grade_acrostic(answer: str, heads: str) -> Grade:
    """Consecutive lines start with `heads` in order and have the same length (5 or 7 characters)."""
    lines = poem_lines(answer)
    for start in range(len(lines)):
        window = lines[start : start + len(heads)]
        if len(window) == len(heads) and all(
            line.startswith(h) for line, h in zip(window, heads, strict=True)
        ):
            lengths = {len(line) for line in window}
            regular = len(lengths) == 1 and lengths <= {5, 7}
            english = sum(c.isascii() and c.isalpha() for c in answer) / max(1, len(answer))
            if english > 0.3:
                return Grade(False, 0.5, "acrostic present but the answer drifted into English")
            if regular:
                return Grade(True, 1.0, f"{len(heads)} lines of {lengths.pop()} characters, heads {heads}")
            return Grade(False, 0.6, f"heads correct but line lengths vary: {sorted(lengths)}")
    got = "".join(line[0] for line in lines[: len(heads)])
    return Grade(False, 0.0, f"lines do not begin with {heads} (first characters: {got or 'none'})")


def grade(answer: str, expected: Mapping[str, Any], sources: Sequence[dict[str, Any]]) -> Grade:
    """expected: {heads: "春夏秋冬"}."""
    return grade_acrostic(answer, str(expected.get("heads", "")))
