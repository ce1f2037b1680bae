"""Markdown: sections follow the heading tree (ATX `#` and setext headings; not inside code fences)."""

from __future__ import annotations

import re
from pathlib import Path

from .base import ParsedDocument
from .text import decode_or_fail

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def markdown_to_document(text: str, title: str, warnings: list[str] | None = None) -> ParsedDocument:
    """Split Markdown `text` into sections under their heading paths."""
    text = _HTML_COMMENT.sub("", text)
    doc = ParsedDocument(title=title, warnings=list(warnings or []))
    headings: list[tuple[int, str]] = []
    block: list[str] = []
    in_fence = False
    found_title: str | None = None

    def flush() -> None:
        # A heading followed directly by a sub-heading stays with the sub-heading's text.
        if all(not line.strip() or _ATX.match(line) for line in block):
            return
        doc.add("\n".join(block), heading=" > ".join(h for _, h in headings))
        block.clear()

    def open_heading(level: int, name: str) -> None:
        nonlocal found_title
        flush()
        while headings and headings[-1][0] >= level:
            headings.pop()
        headings.append((level, name))
        if found_title is None and level == 1:
            found_title = name
        block.append("#" * level + " " + name)  # the heading stays in the chunk text

    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
        if not in_fence:
            if m := _ATX.match(line):
                open_heading(len(m.group(1)), m.group(2).strip())
                continue
            if (
                (m := _SETEXT.match(line))
                and block
                and block[-1].strip()
                and i > 0
                and lines[i - 1] == block[-1]
                and not block[-1].lstrip().startswith(("-", "*", "#", ">"))
            ):
                name = block.pop().strip()
                open_heading(1 if m.group(1)[0] == "=" else 2, name)
                continue
        block.append(line)
    flush()
    if block and not doc.sections:  # a document that is nothing but headings
        doc.add("\n".join(block), heading=" > ".join(h for _, h in headings))
    if found_title:
        doc.title = found_title
    return doc


def parse_markdown(path: Path, data: bytes) -> ParsedDocument:
    text, warnings = decode_or_fail(data)
    return markdown_to_document(text, path.stem, warnings)
