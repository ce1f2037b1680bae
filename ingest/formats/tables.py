"""Tables as Markdown: the form every reader hands a table to the chunker in (ingest.chunking
keeps each row whole and repeats the header row when a table spans chunks)."""

from __future__ import annotations

import re

#: A Markdown table: a header row, a separator row, then body rows, each line starting with "|".
TABLE_RE = re.compile(r"(?m)^\|.*\|[ \t]*\n\|(?:[ \t]*:?-{3,}:?[ \t]*\|)+[ \t]*\n(?:\|.*\|[ \t]*(?:\n|$))*")


def _cell(value: str | None) -> str:
    text = " ".join((value or "").split())
    return text.replace("|", "\\|")


def split_stacked_rows(rows: list[list[str | None]]) -> list[list[str | None]]:
    """Rows that a PDF table finder merged (every multi-line cell holding the same number of
    lines, as when rules separate only groups of rows) split back into one row per line; a
    one-line cell beside them spans them and is repeated."""
    out: list[list[str | None]] = []
    for row in rows:
        counts = [len(c.splitlines()) for c in row if c and c.strip()]
        multi = {n for n in counts if n > 1}
        if len(multi) == 1 and counts.count(next(iter(multi))) >= 2:
            k = next(iter(multi))
            for i in range(k):
                out.append([(c.splitlines()[i] if c and len(c.splitlines()) == k else c) for c in row])
        else:
            out.append(row)
    return out


def markdown_table(rows: list[list[str | None]]) -> str:
    """`rows` (the first one the header) as a Markdown table; "" if it is not a table (fewer than
    two rows or columns with text)."""
    rows = [[_cell(c) for c in row] for row in rows if any(c and c.strip() for c in row)]
    if len(rows) < 2:
        return ""
    width = max(len(r) for r in rows)
    if width < 2:
        return ""
    rows = [r + [""] * (width - len(r)) for r in rows]
    # Columns that are empty in every row (spans a PDF table finder left) are dropped.
    keep = [i for i in range(width) if any(r[i] for r in rows)]
    if len(keep) < 2:
        return ""
    rows = [[r[i] for i in keep] for r in rows]
    header, *body = rows
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)
