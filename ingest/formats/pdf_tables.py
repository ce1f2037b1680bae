"""Tables on PDF pages with a text layer, found from their ruling lines by pdfplumber and written
as Markdown in place of the stream of cells the page's text would give.

Only pages that draw lines are searched (a cheap check with PDFium first), so a long text-only
PDF costs nothing more. A table whose outer sides have no vertical rules (booktabs style) is
closed at the ends of its horizontal rules; rows that only groups of rules separate are split
back into single rows (ingest.formats.tables).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from .tables import markdown_table, split_stacked_rows

#: A page needs at least this many drawn paths (rules, boxes) to be searched for tables.
MIN_PATHS = 3


@dataclass(frozen=True)
class PageTable:
    #: Top and bottom of the table, in PDF points from the top of the page.
    top: float
    bottom: float
    markdown: str


def may_have_tables(page) -> bool:
    """Whether a PDFium page draws enough lines to hold a ruled table."""
    import pypdfium2.raw as raw

    count = 0
    for _ in page.get_objects(filter=[raw.FPDF_PAGEOBJ_PATH], max_depth=2):
        count += 1
        if count >= MIN_PATHS:
            return True
    return False


class TableFinder:
    """pdfplumber over one PDF's bytes, opened on first use."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._pdf = None

    def tables(self, number: int) -> list[PageTable]:
        """The tables of page `number` (0-based), top to bottom."""
        import pdfplumber

        if self._pdf is None:
            self._pdf = pdfplumber.open(io.BytesIO(self.data))
        page = self._pdf.pages[number]
        rules = [e for e in page.horizontal_edges if e["x1"] - e["x0"] > 0.2 * page.width]
        settings = {}
        if rules:
            left = min(e["x0"] for e in rules)
            right = max(e["x1"] for e in rules)
            settings = {"explicit_vertical_lines": [left, right]}
        found = []
        for table in page.find_tables(settings):
            markdown = markdown_table(_with_header(table.extract()))
            if markdown and _looks_like_a_table(markdown):
                found.append(PageTable(table.bbox[1], table.bbox[3], markdown))
        return sorted(found, key=lambda t: t.top)

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()


def _with_header(rows: list[list[str | None]]) -> list[list[str | None]]:
    """One header row: the first row, its spanned cells (None) filled from the left, with the
    sub-header rows under it (rows with spanned cells) joined in; then the body rows."""
    if not rows:
        return rows
    header = [" ".join((c or "").split()) for c in rows[0]]
    for i in range(1, len(header)):
        if rows[0][i] is None:
            header[i] = header[i - 1]
    body = rows[1:]
    while len(body) > 1 and any(c is None for c in body[0]):
        header = [
            " ".join(p for p in (h, " ".join((c or "").split())) if p)
            for h, c in zip(header, body[0], strict=False)
        ]
        body = body[1:]
    return [header, *split_stacked_rows(body)]


def _looks_like_a_table(markdown: str) -> bool:
    """A grid mostly filled with text, not a diagram's boxes."""
    rows = [line.strip("|").split(" | ") for line in markdown.splitlines()[2:]]
    cells = [c.strip() for row in rows for c in row]
    return len(rows) >= 1 and sum(bool(c) for c in cells) >= 0.5 * len(cells)


def text_around(page, tables: list[PageTable]) -> str:
    """The PDFium page's text with each table's region replaced by its Markdown."""
    width, height = page.get_size()
    textpage = page.get_textpage()
    parts = []
    cursor = 0.0  # from the top, in points
    for table in tables:
        if table.top > cursor:
            parts.append(textpage.get_text_bounded(0, height - table.top, width, height - cursor))
        parts.append("\n" + table.markdown + "\n")
        cursor = max(cursor, table.bottom)
    parts.append(textpage.get_text_bounded(0, 0, width, height - cursor))
    return "\n".join(p.strip("\n") for p in parts if p.strip())
