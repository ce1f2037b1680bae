"""The snake game: one HTML document, checked statically here and in a headless browser when
one is installed (`assistant.bench.browser`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .base import Grade

_HTML_BLOCK = re.compile(r"```(?:html)?\s*\n(.*?<html.*?</html>.*?)```", re.S | re.I)
_HTML_DOC = re.compile(r"(<!doctype html.*?</html>|<html.*?</html>)", re.S | re.I)


def extract_html(answer: str) -> list[str]:
    blocks = _HTML_BLOCK.findall(answer)
    return blocks or _HTML_DOC.findall(answer)


def grade_snake_static(answer: str) -> Grade:
    """One runnable HTML document that draws, listens to arrow keys, moves on a timer, keeps score."""
    docs = extract_html(answer)
    if len(docs) != 1:
        return Grade(False, 0.0, f"expected one HTML document, found {len(docs)}")
    html = docs[0]
    checks = {
        "draws (canvas or grid)": re.search(r"<canvas|getContext|grid|\.cell", html, re.I),
        "listens to arrow keys": re.search(r"keydown|keyup|onkeydown", html)
        and re.search(r"Arrow|keyCode|\b3[7-9]\b|\b40\b", html),
        "moves on a timer": re.search(r"setInterval|setTimeout|requestAnimationFrame", html),
        "keeps a score": re.search(r"score|分数|得分", html, re.I),
    }
    missing = [name for name, hit in checks.items() if not hit]
    score = 1 - len(missing) / len(checks)
    return Grade(
        not missing,
        score,
        "static checks passed" if not missing else "missing: " + ", ".join(missing),
        unverified=["the snake moving and the score changing (needs a headless browser)"],
    )


def grade(answer: str, expected: Mapping[str, Any], sources: Sequence[dict[str, Any]]) -> Grade:
    """The static checks, then the game played in headless Chromium when there is one."""
    from ..browser import grade_snake  # the browser module builds on the static checks above

    return grade_snake(answer)
