"""The networked summary: the answer quotes a line found in the fetched web pages and cites them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from vectorstore.plurals import counted

from .base import PUNCT, Grade


def grade_quotes_sources(answer: str, sources: Sequence[dict[str, Any]], min_chars: int = 7) -> Grade:
    """The answer quotes text (a run of `min_chars` characters: a line of seven-character verse)
    that appears in the fetched web sources, and cites them."""
    web = [s for s in sources if s.get("kind") == "web"]
    if not web:
        return Grade(False, 0.0, "no web sources were fetched")
    source_text = PUNCT.sub("", "".join(s.get("text", "") for s in web))
    found = []
    for segment in re.split(r"[，。！？；：、\n,.!?;:]", answer):
        text = PUNCT.sub("", segment)
        windows = (text[i : i + min_chars] for i in range(len(text) - min_chars + 1))
        hit = next((w for w in windows if w in source_text), None)
        if hit:
            found.append(hit)
    cited = re.findall(r"\[W\d+\]", answer)
    score = (0.6 if found else 0.0) + (0.4 if cited else 0.0)
    quoted, citations = counted(len(found), "quoted line"), counted(len(cited), "web citation")
    detail = f"{quoted} found in the web sources; {citations}"
    return Grade(bool(found) and bool(cited), score, detail)


def grade(answer: str, expected: Mapping[str, Any], sources: Sequence[dict[str, Any]]) -> Grade:
    """expected: {min_chars: 7} (optional)."""
    return grade_quotes_sources(answer, sources, int(expected.get("min_chars", 7)))
