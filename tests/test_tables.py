"""Tables: a ruled table in a PDF's text layer and a DOCX table become Markdown tables, and the
chunker never cuts a row and repeats the header row in every chunk a table spans."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.chunking import Chunker
from ingest.formats import ParsedDocument, parse
from ingest.formats.tables import TABLE_RE, markdown_table, split_stacked_rows

DOCS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "docs"

# Table 1 of 2305.03393v1 p. 9, as printed (the PDF's rules separate only pairs of rows).
PG9_ROWS = [
    "| 6 | 6 | OTSL | 0.965 | 0.934 | 0.955 | 0.88 | 2.73 |",
    "| 6 | 6 | HTML | 0.969 | 0.927 | 0.955 | 0.857 | 5.39 |",
    "| 4 | 4 | OTSL | 0.938 | 0.904 | 0.927 | 0.853 | 1.97 |",
    "| 4 | 4 | HTML | 0.952 | 0.909 | 0.938 | 0.843 | 3.77 |",
    "| 2 | 4 | OTSL | 0.923 | 0.897 | 0.915 | 0.859 | 1.91 |",
    "| 2 | 4 | HTML | 0.945 | 0.901 | 0.931 | 0.834 | 3.81 |",
    "| 4 | 2 | OTSL | 0.952 | 0.92 | 0.942 | 0.857 | 1.22 |",
    "| 4 | 2 | HTML | 0.944 | 0.903 | 0.931 | 0.824 | 2 |",
]


def read(name: str) -> ParsedDocument:
    path = DOCS / name
    return parse(path, path.read_bytes())[1]


def tables_in(text: str) -> list[str]:
    return [m.group(0).strip() for m in TABLE_RE.finditer(text)]


def test_the_ruled_table_of_a_text_pdf_is_a_markdown_table() -> None:
    doc = read("2305.03393v1-pg9.pdf")
    (table,) = tables_in(doc.text)
    lines = table.splitlines()
    assert lines[0] == (
        "| # enc-layers | # dec-layers | Language | TEDs simple | TEDs complex | TEDs all | mAP (0.75) "
        "| Inference time (secs) |"
    )
    assert lines[2:] == PG9_ROWS
    # The table's cells are not repeated as loose text around it.
    assert doc.text.count("0.965") == 1
    assert "5.2 Quantitative Results" in doc.text.split(table)[1]


def test_boxed_tables_of_a_longer_pdf_keep_their_rows() -> None:
    doc = read("redp5110_sampled.pdf")
    headers = [t.splitlines()[0] for t in tables_in(doc.text)]
    assert "| Column name | Data type | Description |" in headers
    assert "| Global variable | Type | Description |" in headers
    assert (
        "| CLIENT_HOST | VARCHAR(255) | Host name of the current client as returned by the system |"
        in doc.text
    )


def test_a_docx_table_is_a_markdown_table() -> None:
    doc = read("word_sample.docx")
    (table,) = tables_in(doc.text)
    assert table.splitlines()[0] == "|  | Food | Calories per portion |"
    assert "| Berries | Blueberry, Strawberry, Cranberry | 150 |" in table.splitlines()


def test_markdown_cells_are_escaped_and_empty_tables_refused() -> None:
    assert markdown_table([["a|b", "c\nd"], ["1", None]]) == "| a\\|b | c d |\n|---|---|\n| 1 |  |"
    assert markdown_table([["only one row", "x"]]) == ""
    assert markdown_table([["a"], ["b"]]) == ""
    assert split_stacked_rows([["6", "OTSL\nHTML", "0.9\n0.8"]]) == [
        ["6", "OTSL", "0.9"],
        ["6", "HTML", "0.8"],
    ]
    assert split_stacked_rows([["USAGE", "Usage:\nALLOWED\nDENIED", "x"]]) == [
        ["USAGE", "Usage:\nALLOWED\nDENIED", "x"]
    ]


def yearly_table(years: range) -> str:
    rows = [["Year", "Region", "Pears sold (crates)", "Remark"]]
    rows += [
        [str(y), f"North {y % 7}", str(1000 + 37 * (y - 1990)), "a season like the others"] for y in years
    ]
    return markdown_table(rows)


@pytest.mark.parametrize("chunk_size", [300, 800])
def test_a_long_table_is_cut_between_rows_with_its_header_repeated(chunk_size: int) -> None:
    table = yearly_table(range(1990, 2030))
    doc = ParsedDocument("Sales")
    doc.add("The yearly pear sales of the cooperative follow.", page=4)
    doc.add(table, page=4)
    doc.add("That is all for the sales.", page=4)
    chunks = Chunker(chunk_size, 60).chunk(doc, source="sales.pdf", content_hash="0" * 40, kind="pdf")
    header = "\n".join(table.splitlines()[:2])
    table_chunks = [c for c in chunks if "| Year |" in c.text]
    assert len(table_chunks) > 1
    seen = []
    for chunk in table_chunks:
        assert chunk.text.startswith(header), chunk.text[:100]
        rows = [line for line in chunk.text.splitlines() if re.match(r"\| \d{4} \|", line)]
        assert all(line.endswith("|") and line.count("|") == 5 for line in rows)
        seen += rows
    assert seen == table.splitlines()[2:]  # every row once, in order, none cut
    row_2023 = next(c for c in chunks if "| 2023 |" in c.text)
    assert "Pears sold (crates)" in row_2023.text and row_2023.metadata["page"] == 4
