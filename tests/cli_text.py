"""Reading what the CLI printed: typer draws usage errors in a box whose lines wrap at the
console's width, so a long message is split across lines between `│` borders."""

from __future__ import annotations

import re

_BOX = re.compile(r"[│╭╮╰╯─]")


def unboxed(text: str) -> str:
    """`text` without box borders, its words joined by single spaces (a wrapped message reads whole)."""
    return " ".join(_BOX.sub(" ", text).split())
