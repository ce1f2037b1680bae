"""OCR with the real engine: scanned PDF pages and image files become searchable text, within
the limits (page time, page count, pass budget) and resumable from the page cache."""

from __future__ import annotations

import ctypes
import io
import re
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from PIL import Image

from ingest import FileDone, sync
from ingest.formats import NothingToIndexError, UnreadableFileError, parse
from ingest.ocr import OcrOptions, read_image
from ingest.reading import PARTIAL

from scans import font as scan_font
from scans import image_bytes, image_pdf, page, scanned, vertical_page, write

PEARS = (
    "The quarterly report shows that the northern warehouse shipped four thousand crates of "
    "pears in March, more than in any month before."
)
DUCKS = (
    "Ducks are waterfowl that migrate south in autumn; the mallard is the most familiar of them "
    "and lives on almost every continent."
)
LAW = (
    "第四条维护数据安全，应当坚持总体国家安全观，建立健全数据安全治理体系，提高数据安全保障能力。"
    "第五条中央国家安全领导机构负责国家数据安全工作的决策和议事协调。"
)
OPTIONS = OcrOptions(page_timeout=300)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def small(text: str, size: int = 28) -> Image.Image:
    """A strip of a page with one short paragraph: quick to read."""
    return page([text], size=size).crop((0, 0, 1240, 260))


def test_an_english_page_and_a_chinese_page_are_read() -> None:
    english = read_image(scanned(page([PEARS, DUCKS]), noise=0.005), OPTIONS)
    assert PEARS in squash(english.text) and DUCKS in squash(english.text)
    chinese = read_image(page([LAW]), OPTIONS)
    text = chinese.text.replace("\n", "")
    assert " " not in text
    wrong = sum(a != b for a, b in zip(text, LAW, strict=False)) + abs(len(text) - len(LAW))
    assert wrong <= len(LAW) * 0.03, text


def test_a_specked_skewed_chinese_scan_is_cleaned_before_reading() -> None:
    # Salt-and-pepper noise on 1% of the pixels hides every line from the detector unless the
    # page is median-filtered first (ingest.ocr.despeckle).
    text = read_image(scanned(page([LAW]), angle=-2.5, noise=0.01, seed=4), OPTIONS).text.replace("\n", "")
    wrong = sum(a != b for a, b in zip(text, LAW, strict=False)) + abs(len(text) - len(LAW))
    assert wrong <= len(LAW) * 0.05, text


def test_two_columns_under_a_title_read_column_by_column() -> None:
    left = [f"Left column paragraph {n} tells about pears and apples in the orchard." for n in "ABCD"]
    right = [f"Right column paragraph {n} tells about ducks and geese on the lake." for n in "EFGH"]
    image = page(left + right, columns=2, size=24, title="The Orchard Gazette")
    # The renderer fills the left column first; make it spill over only with the right's paragraphs.
    text = squash(read_image(image, OPTIONS).text)
    order = [text.find(f"paragraph {n}") for n in "ABCDEFGH"]
    assert all(i >= 0 for i in order), text
    assert order == sorted(order), text
    assert text.startswith("The Orchard Gazette")


@pytest.mark.parametrize("turn", [180, 90, -90, 4])
def test_turned_and_skewed_pages_are_straightened(turn: int) -> None:
    image = page([PEARS, DUCKS], size=30).rotate(turn, expand=True, fillcolor="white")
    text = squash(read_image(image, OPTIONS).text)
    assert text.index("quarterly") < text.index("mallard"), text
    assert "four thousand crates of pears" in text


def test_vertical_chinese_is_read_top_to_bottom_right_to_left() -> None:
    # Long columns of small type: the angle classifier votes "upside down" on such crops, and
    # the recogniser's own scores must overrule it.
    result = read_image(vertical_page(LAW[:120], size=30, per_column=34), OPTIONS)
    assert result.vertical
    text = result.text.replace("\n", "")
    assert text.startswith("第四条维护数据安全")
    assert "建立健全数据安全治理体系" in text


def test_a_scanned_table_becomes_a_markdown_table() -> None:
    from PIL import ImageDraw

    image = Image.new("RGB", (1240, 600), "white")
    draw = ImageDraw.Draw(image)
    rows = [
        ("Year", "Region", "Crates"),
        ("2022", "North", "4100"),
        ("2023", "South", "5250"),
        ("2024", "East", "3900"),
    ]
    for r, cells in enumerate(rows):
        for c, cell in enumerate(cells):
            draw.text((120 + 330 * c, 80 + 70 * r), cell, font=scan_font(30), fill="black")
    text = read_image(scanned(image, angle=1.0), OPTIONS).text
    assert "| Year | Region | Crates |" in text, text
    assert "| 2023 | South | 5250 |" in text


def test_a_mixed_pdf_keeps_text_pages_and_scanned_pages_with_their_numbers(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    text_pdf = tmp_path / "text.pdf"
    _text_pdf(text_pdf, "This page has a real text layer about owls hunting at night.")
    scan = PdfReader(io.BytesIO(image_pdf([small(DUCKS)])))
    writer = PdfWriter()
    writer.append(PdfReader(text_pdf))
    writer.append(scan)
    writer.append(PdfReader(text_pdf))
    mixed = tmp_path / "mixed.pdf"
    with mixed.open("wb") as out:
        writer.write(out)
    kind, doc = parse(mixed, mixed.read_bytes(), OPTIONS)
    pages = {s.page: (doc.text[s.start : s.end], s.ocr) for s in doc.sections}
    assert sorted(pages) == [1, 2, 3]
    assert "owls hunting" in pages[1][0] and not pages[1][1]
    assert "mallard" in squash(pages[2][0]) and pages[2][1]
    assert doc.ocr_pages == 1


def _text_pdf(path: Path, text: str) -> None:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    pdf = pdfium.PdfDocument.new()
    pg = pdf.new_page(612, 792)
    font = raw.FPDFText_LoadStandardFont(pdf, b"Helvetica")
    obj = raw.FPDFPageObj_NewTextObj(pdf, b"Helvetica", 12.0)
    encoded = (text + "\x00").encode("utf-16-le")
    raw.FPDFText_SetText(obj, ctypes.cast(encoded, raw.FPDF_WIDESTRING))
    raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 72, 700)
    raw.FPDFPage_InsertObject(pg.raw, obj)
    raw.FPDFPage_GenerateContent(pg.raw)
    del font
    pdf.save(str(path))


@pytest.mark.parametrize(
    "suffix, fmt", [(".png", "PNG"), (".jpg", "JPEG"), (".webp", "WEBP"), (".bmp", "BMP")]
)
def test_image_files_are_read(tmp_path: Path, suffix: str, fmt: str) -> None:
    path = write(tmp_path / f"note{suffix}", image_bytes(small(PEARS), fmt))
    kind, doc = parse(path, path.read_bytes(), OPTIONS)
    assert kind == "image"
    assert "northern warehouse" in squash(doc.text)
    assert all(s.ocr for s in doc.sections)


def test_a_multi_page_tiff_keeps_its_pages_and_a_camera_turn_is_undone(tmp_path: Path) -> None:
    frames = [small(PEARS), small(DUCKS)]
    path = tmp_path / "scan.tiff"
    frames[0].save(path, format="TIFF", save_all=True, append_images=frames[1:])
    _, doc = parse(path, path.read_bytes(), OPTIONS)
    assert [s.page for s in doc.sections] == [1, 2]
    assert "mallard" in squash(doc.text[doc.sections[1].start :])

    # A phone photo stored sideways with an EXIF orientation tag (6: turn 90 degrees clockwise).
    sideways = small(DUCKS).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = write(tmp_path / "photo.jpg", image_bytes(sideways, "JPEG", exif=exif.tobytes()))
    _, doc = parse(photo, photo.read_bytes(), OPTIONS)
    assert "mallard" in squash(doc.text)


def test_images_without_text_are_skipped_and_broken_ones_fail_clearly(tmp_path: Path) -> None:
    blank = write(tmp_path / "sky.png", image_bytes(Image.new("RGB", (400, 300), (120, 170, 230)), "PNG"))
    with pytest.raises(NothingToIndexError, match="no text"):
        parse(blank, blank.read_bytes(), OPTIONS)
    broken = write(tmp_path / "cut.png", image_bytes(small(PEARS), "PNG")[:200])
    with pytest.raises(UnreadableFileError, match="image"):
        parse(broken, broken.read_bytes(), OPTIONS)


def test_ocr_off_skips_images_and_names_the_setting_for_scans(tmp_path: Path) -> None:
    off = OcrOptions(enabled=False)
    photo = write(tmp_path / "note.png", image_bytes(small(PEARS), "PNG"))
    with pytest.raises(NothingToIndexError, match="ASSISTANT_OCR=0"):
        parse(photo, photo.read_bytes(), off)
    scan = write(tmp_path / "scan.pdf", image_pdf([small(PEARS)]))
    with pytest.raises(UnreadableFileError, match="ASSISTANT_OCR=0"):
        parse(scan, scan.read_bytes(), off)


def test_page_count_and_page_time_limits_name_their_settings(tmp_path: Path) -> None:
    scan = write(tmp_path / "scan.pdf", image_pdf([small(PEARS), small(DUCKS), small(PEARS)]))
    _, doc = parse(scan, scan.read_bytes(), replace(OPTIONS, max_pages=1))
    assert doc.ocr_pages == 1 and "northern warehouse" in squash(doc.text)
    assert any("ASSISTANT_OCR_MAX_PAGES" in w and "2 scanned pages" in w for w in doc.warnings)

    with pytest.raises(UnreadableFileError):  # every page over its time: nothing left to index
        parse(scan, scan.read_bytes(), replace(OPTIONS, page_timeout=0.001))
    _, doc = parse_timed_out_but_one(tmp_path)
    assert "lighthouses" in doc.text
    assert any("ASSISTANT_OCR_PAGE_TIMEOUT" in w for w in doc.warnings)


def parse_timed_out_but_one(tmp_path: Path):
    """A mixed PDF whose only scanned page runs out of time keeps its text page."""
    from pypdf import PdfReader, PdfWriter

    text_pdf = tmp_path / "t.pdf"
    _text_pdf(text_pdf, "A text page about lighthouses and their keepers on the coast.")
    writer = PdfWriter()
    writer.append(PdfReader(text_pdf))
    writer.append(PdfReader(io.BytesIO(image_pdf([small(PEARS)]))))
    path = tmp_path / "m.pdf"
    with path.open("wb") as out:
        writer.write(out)
    return parse(path, path.read_bytes(), replace(OPTIONS, page_timeout=0.001))


def test_a_long_scan_is_committed_pass_by_pass_and_resumes_from_the_cache(open_kb, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    write(folder / "scan.pdf", image_pdf([small(PEARS), small(DUCKS), small(LAW, 26)]))
    cache = tmp_path / "cache"
    # A zero budget reads one scanned page per pass: three passes, one file reported.
    parser = partial(parse, ocr=replace(OPTIONS, budget=0.0, cache_dir=cache))
    kb = open_kb()
    events = []
    summary = sync(kb, folder, parser=parser, on_event=events.append, workers=1)
    done = [e for e in events if isinstance(e, FileDone)]
    assert [(e.status, e.path.endswith("scan.pdf")) for e in done] == [("added", True)]
    assert summary.files_added == 1 and summary.files_failed == []
    record = kb.index.file(str((folder / "scan.pdf").resolve()))
    assert record is not None and not record.content_hash.endswith(PARTIAL)
    texts = " ".join(squash(c.text) for c in kb.index.chunks(record.chunk_ids))
    assert "mallard" in texts and "northern warehouse" in texts and "数据安全" in texts
    assert all("~" not in i for i in record.chunk_ids)  # the last pass's ids, not a pass's own
    assert kb.stats().ocr_pages == 3
    assert kb.index.counts() == (1, len(record.chunk_ids))  # earlier passes' chunks are gone
    assert len(list(cache.rglob("*.json"))) == 3

    # The same file again, with an engine that cannot run: every page comes from the cache.
    kind, doc = parse(
        folder / "scan.pdf", (folder / "scan.pdf").read_bytes(), replace(OPTIONS, cache_dir=cache)
    )
    assert doc.ocr_pages == 3 and "mallard" in squash(doc.text)


def test_an_interrupted_ocr_leaves_a_partial_record_that_the_next_ingest_finishes(
    open_kb, tmp_path: Path
) -> None:
    from ingest.chunking import Chunker
    from ingest.limits import ReadLimits
    from ingest.reading import ReadJob, read_document

    folder = tmp_path / "docs"
    path = write(folder / "scan.pdf", image_pdf([small(PEARS), small(DUCKS)]))
    cache = tmp_path / "cache"
    parser = partial(parse, ocr=replace(OPTIONS, budget=0.0, cache_dir=cache))
    info = path.stat()
    work = read_document(
        ReadJob(str(path.resolve()), path, info.st_size, info.st_mtime_ns), Chunker(), ReadLimits(), parser
    )
    assert work.pending_pages == 1
    assert (
        work.record is not None and work.record.content_hash.endswith(PARTIAL) and work.record.mtime_ns == 0
    )
    # As if the ingest stopped here: the first pass is committed, the second never ran.
    kb = open_kb()
    kb.begin_write()
    kb.commit_file(work.record, work.chunks)
    kb.end_write()
    summary = sync(kb, folder, parser=partial(parse, ocr=replace(OPTIONS, cache_dir=cache)), workers=1)
    assert summary.files_updated == 1 and summary.files_unchanged == 0
    assert kb.stats().ocr_pages == 2
    assert len(list(cache.rglob("*.json"))) == 2


def test_read_image_respects_the_page_time_limit() -> None:
    from ingest.ocr import PageTimeoutError

    with pytest.raises(PageTimeoutError):
        read_image(page([PEARS]), OcrOptions(page_timeout=0.001))


def _boxes_match(found, expected, tolerance: float) -> bool:
    """Every expected box has a found one whose corners are within `tolerance` pixels."""
    import numpy as np

    return len(found) == len(expected) and all(
        min(np.abs(f - e).max() for f in found) <= tolerance for e in expected
    )


def test_the_int8_detector_finds_the_lines_the_float_one_finds() -> None:
    # The ingest detects lines with an int8 copy of RapidOCR's detector (a third of the CPU): on small
    # two-column English type and on Chinese it must find the same lines, their corners within a
    # third of a line height.
    import numpy as np
    import rapidocr

    from ingest.ocr.engine import DET_INT8, OcrEngine, _shipped_models

    assert _shipped_models()["Det.model_path"] == str(DET_INT8)
    float_model = Path(rapidocr.__file__).parent / "models" / "PP-OCRv6_det_small.onnx"
    shipped, reference = OcrEngine(), OcrEngine(models={"Det.model_path": str(float_model)})
    english = page([PEARS, DUCKS, PEARS, DUCKS], columns=2, size=18, title="Harvest notes")
    for image in (english, page([LAW, LAW], size=24)):
        pixels = np.asarray(image.convert("RGB"))
        found, expected = shipped.detect(pixels), reference.detect(pixels)
        assert len(expected) >= 4
        assert _boxes_match(found, expected, tolerance=8), (len(found), len(expected))
