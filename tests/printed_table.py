"""Reading a Rich table back from printed output, whatever the terminal's width and the length of the
paths in it: a cell's text is spread over as many lines as the wrapping needed, between the other
columns' pieces, so a test finds a value in a cell, never in the raw lines."""

from __future__ import annotations


def table_rows(output: str) -> list[list[str]]:
    """The body rows of a table printed with a rule between rows (`show_lines=True`), each the list
    of its cells; a cell's wrapped pieces are joined by newlines (compare with `compact`)."""
    rows: list[list[str]] = []
    cells: list[list[str]] | None = None
    for line in output.splitlines():
        if line.startswith("│"):
            pieces = [piece.strip() for piece in line.strip().strip("│").split("│")]
            cells = cells or [[] for _ in pieces]
            for cell, piece in zip(cells, pieces, strict=True):
                if piece:
                    cell.append(piece)
        elif cells is not None:
            rows.append(["\n".join(cell) for cell in cells])
            cells = None
    if cells is not None:
        rows.append(["\n".join(cell) for cell in cells])
    return rows


def compact(text: str) -> str:
    """`text` without any white space: a wrapped cell and the text it shows compare equal."""
    return "".join(text.split())
