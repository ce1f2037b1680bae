"""Word (.docx) through python-docx: paragraphs and tables (as Markdown) in body order, headings
as sections."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from .base import ParsedDocument, UnreadableFileError
from .tables import markdown_table

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def parse_docx(path: Path, data: bytes) -> ParsedDocument:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    if data.startswith(_OLE_MAGIC):
        raise UnreadableFileError(
            "password-protected or legacy binary Word file; save it as an unprotected .docx"
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableFileError(f"not a valid .docx file ({exc})") from None

    title = (document.core_properties.title or "").strip() or path.stem
    doc = ParsedDocument(title=title)
    headings: list[tuple[int, str]] = []
    block: list[str] = []

    def flush() -> None:
        doc.add("\n".join(block), heading=" > ".join(h for _, h in headings))
        block.clear()

    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            level = _heading_level(item.style.name if item.style is not None else "")
            if level:
                flush()
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, text))
                block.append("#" * level + " " + text)
            else:
                block.append(text)
        elif isinstance(item, Table):
            rows = [[c.text.strip() for c in row.cells] for row in item.rows]
            table = markdown_table(rows)
            if table:
                block.append(f"\n{table}\n")
            else:  # a one-row or one-column "table" (a layout box) is just text
                block.extend(" | ".join(c for c in row if c) for row in rows if any(row))
    flush()
    if not doc.text.strip():
        raise UnreadableFileError("the document has no text")
    return doc


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if style.startswith("Heading "):
        try:
            return max(1, min(6, int(style.split()[1])))
        except (IndexError, ValueError):
            return 0
    return 0
