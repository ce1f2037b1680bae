"""Reading what the CLI printed: typer draws usage errors in a box whose lines wrap at the
console's width, so a long message is split across lines between `│` borders."""

from __future__ import annotations

import re

_BOX = re.compile(r"[│╭╮╰╯─]")


def unboxed(text: str) -> str:
    """`text` without box borders, its words joined by single spaces (a wrapped message reads whole)."""
    return " ".join(_BOX.sub(" ", text).split())


_LABEL = re.compile(r"^([KW]\d+)  ")


def printed_sources(output: str) -> dict[str, str]:
    """`assistant search`'s sources by label: each label's heading and lines (wrapped pieces
    included), up to the blank line before the next source."""
    blocks: dict[str, str] = {}
    label = None
    for line in output.splitlines():
        if m := _LABEL.match(line):
            label = m.group(1)
            blocks[label] = line
        elif label is not None and line.strip():
            blocks[label] += "\n" + line
        else:
            label = None
    return blocks
