"""Reading order and paragraphs from recognised lines (ingest.ocr.layout), on boxes placed by
hand: no OCR engine runs here."""

from __future__ import annotations

import math

import numpy as np

from ingest.ocr.engine import TextLine
from ingest.ocr.layout import arrange

H = 20  # line height in pixels


def line(x: float, y: float, text: str, width: float | None = None, *, score: float = 0.98, flipped=False):
    width = width if width is not None else 10 * len(text)
    box = np.array([[x, y], [x + width, y], [x + width, y + H], [x, y + H]], dtype=np.float32)
    return TextLine(box, text, score, flipped)


def turned(lines: list[TextLine], degrees: float, centre=(600, 800)) -> list[TextLine]:
    a = math.radians(degrees)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    out = []
    for item in lines:
        box = (item.box - centre) @ rot.T + centre
        out.append(TextLine(box.astype(np.float32), item.text, item.score, item.flipped))
    return out


def column(x: float, y: float, words: list[str], width: float = 480) -> list[TextLine]:
    return [line(x, y + i * 30, w, width) for i, w in enumerate(words)]


def two_column_page() -> list[TextLine]:
    title = [line(100, 40, "A Title Across The Page", 1000)]
    intro = [line(100, 100, "a full width paragraph runs across both columns", 1000)]
    left = column(100, 180, [f"left{i}" for i in range(8)])
    right = column(620, 180, [f"right{i}" for i in range(8)])
    footer = [line(100, 450, "a footer line under both columns", 1000)]
    # Interleave the detector's order, as it would come top to bottom.
    body = [b for pair in zip(left, right, strict=True) for b in pair]
    return title + intro + body + footer


def words_in_order(text: str) -> list[str]:
    return text.replace("\n", " ").split()


def test_two_columns_read_column_by_column_between_full_width_lines() -> None:
    page = arrange(two_column_page(), 1240, 1754)
    words = words_in_order(page.text)
    lefts = [words.index(f"left{i}") for i in range(8)]
    rights = [words.index(f"right{i}") for i in range(8)]
    assert lefts == sorted(lefts) and rights == sorted(rights)
    assert max(lefts) < min(rights), page.text
    assert words.index("Title") < words.index("paragraph") < min(lefts)
    assert max(rights) < words.index("footer")


def test_justified_columns_with_a_gutter_narrower_than_a_line_read_column_by_column() -> None:
    """A gutter of half a line's height between full (justified) columns: the detector pads
    its boxes, more on a turned page (the LinnSequencer sheet in ../shared/data, turned 90
    degrees, came out line across line), so what is left of the gutter is narrow."""
    left = column(100, 180, [f"left{i}" for i in range(8)], width=480)
    right = column(100 + 480 + H // 2, 180, [f"right{i}" for i in range(8)], width=480)
    body = [b for pair in zip(left, right, strict=True) for b in pair]
    for lines, size in ((body, (1240, 1754)), (turned(body, 90), (1754, 1240))):
        words = words_in_order(arrange(lines, *size).text)
        lefts = [words.index(f"left{i}") for i in range(8)]
        rights = [words.index(f"right{i}") for i in range(8)]
        assert lefts == sorted(lefts) and rights == sorted(rights)
        assert max(lefts) < min(rights), words


def test_a_skewed_page_keeps_its_order() -> None:
    for degrees in (-6, 4):
        page = arrange(turned(two_column_page(), degrees), 1240, 1754)
        words = words_in_order(page.text)
        assert max(words.index(f"left{i}") for i in range(8)) < min(
            words.index(f"right{i}") for i in range(8)
        )


def test_an_upside_down_page_is_read_from_its_far_corner() -> None:
    lines = [line(100, 100 + 40 * i, f"row{i} text here", 600) for i in range(5)]
    # What the engine reports for a page turned 180 degrees: boxes turned, every line flipped.
    upside = [TextLine(t.box, t.text, t.score, True) for t in turned(lines, 180)]
    page = arrange(upside, 1240, 1754)
    assert page.rotation == 180
    words = words_in_order(page.text)
    assert [words.index(f"row{i}") for i in range(5)] == sorted(words.index(f"row{i}") for i in range(5))


def test_vertical_chinese_columns_read_right_to_left_top_to_bottom() -> None:
    cols = ["第一列文字自上而下", "第二列文字自上而下", "第三列文字自上而下"]
    lines = []
    for i, text in enumerate(cols):
        x = 1000 - 60 * i  # right to left
        box = np.array([[x, 100], [x + 40, 100], [x + 40, 100 + 40 * len(text)], [x, 100 + 40 * len(text)]])
        lines.append(TextLine(box.astype(np.float32), text, 0.99))
    page = arrange(lines, 1240, 1754)
    assert page.vertical
    assert page.text.replace("\n", "") == "".join(cols)


def test_lines_join_into_paragraphs_without_broken_words_or_cjk_spaces() -> None:
    lines = [
        line(100, 100, "The recording func-", 600),
        line(100, 130, "tion keeps every note of a song—", 600),
        line(100, 160, "all of it.", 110),
        line(100, 260, "数据处理者应当依照法律", 600),
        line(100, 290, "法规的规定，建立健全", 600),
    ]
    page = arrange(lines, 1240, 1754)
    paragraphs = page.text.split("\n\n")
    assert paragraphs[0] == "The recording function keeps every note of a song—all of it."
    assert paragraphs[1] == "数据处理者应当依照法律法规的规定，建立健全"


def test_bullets_headings_and_indents_start_paragraphs() -> None:
    lines = [
        line(100, 100, "Features", 200),
        line(100, 140, "• first point that is long enough to fill a line", 900),
        line(120, 170, "and carries on here", 400),
        line(100, 200, "• second point", 300),
        line(140, 260, "An indented first line of a new paragraph that runs", 900),
        line(100, 290, "on to the margin.", 300),
    ]
    paragraphs = arrange(lines, 1240, 1754).text.split("\n\n")
    assert "• first point that is long enough to fill a line and carries on here" in paragraphs
    assert "• second point" in paragraphs
    assert paragraphs[-1].startswith("An indented first line")


def test_a_grid_of_short_cells_becomes_a_markdown_table_between_paragraphs() -> None:
    lines = [line(100, 40, "Sales of the orchard by year, as counted at the gate by the keeper.", 900)]
    for r, cells in enumerate([("Year", "Pears", "Apples"), ("2022", "120", "80"), ("2023", "150", "95")]):
        for c, cell in enumerate(cells):
            lines.append(line(100 + 300 * c, 100 + 30 * r, cell, 60))
    lines.append(line(100, 220, "The keeper counts again in autumn.", 500))
    paragraphs = arrange(lines, 1240, 1754).text.split("\n\n")
    assert paragraphs == [
        "Sales of the orchard by year, as counted at the gate by the keeper.",
        "| Year | Pears | Apples |\n|---|---|---|\n| 2022 | 120 | 80 |\n| 2023 | 150 | 95 |",
        "The keeper counts again in autumn.",
    ]


def test_two_fragments_on_a_line_are_no_table() -> None:
    # A heading and a page number on one line, twice: not three rows, so text.
    lines = [line(100, 100, "Chapter One", 200), line(1000, 100, "7", 20)]
    lines += [
        line(100, 130 + 30 * i, "A long line of body text that fills the column.", 900) for i in range(3)
    ]
    assert "|" not in arrange(lines, 1240, 1754).text


def test_doubtful_text_is_counted() -> None:
    page = arrange(
        [line(100, 100, "clear text", score=0.99), line(100, 130, "smudge", score=0.55)], 1240, 1754
    )
    assert page.doubtful_chars == len("smudge")
    assert 0 < page.doubtful_share < 1
