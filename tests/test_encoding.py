"""Decoding text in the encodings people actually have, and clear failures for what is not text."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pytest

from ingest.encoding import NotTextError, decode_text
from ingest.formats import UnreadableFileError, parse

from corpus import BAD

POEM_LINE = "杜甫《登高》：風急天高猿嘯哀，渚清沙白鳥飛回。"
NOTES_ZH = "杜甫的《登高》作于唐代宗大历二年秋天。全诗八句皆对，被誉为古今七言律诗之冠。"
MIXED = "Meeting notes, 2024-03-01: the team reviewed 登高 and agreed on next steps.\n"


@pytest.mark.parametrize(
    ("name", "encoding", "expected"),
    [
        ("big5_notes.txt", "big5", "風急天高猿嘯哀"),
        ("gbk_notes.txt", "gb18030", "杜甫的《登高》作于唐代宗大历二年秋天"),
        ("utf16_notes.txt", "utf-16", "雞兔同籠，二十五個頭，七十六隻腳"),
    ],
)
def test_chinese_notes_in_legacy_encodings_decode_exactly(name: str, encoding: str, expected: str) -> None:
    decoded = decode_text((BAD / name).read_bytes())
    assert decoded.encoding == encoding
    assert expected in decoded.text
    assert decoded.replaced == 0
    assert "\ufffd" not in decoded.text


def test_big5_notes_parse_as_text_without_warnings() -> None:
    kind, doc = parse(BAD / "big5_notes.txt", (BAD / "big5_notes.txt").read_bytes())
    assert kind == "text"
    assert doc.text.strip() == POEM_LINE
    assert doc.warnings == []


def test_invalid_utf8_stays_utf8_and_reports_replaced_bytes() -> None:
    data = (BAD / "invalid_utf8.md").read_bytes()
    decoded = decode_text(data)
    assert decoded.encoding == "utf-8"
    assert decoded.replaced > 0
    assert decoded.text.count("\ufffd") == decoded.replaced
    # The good lines around the damage survive intact.
    assert "正常的一行。" in decoded.text and "最后一行。" in decoded.text

    kind, doc = parse(BAD / "invalid_utf8.md", data)
    assert kind == "markdown"
    assert doc.title == "笔记"
    assert len(doc.warnings) == 1
    assert f"{decoded.replaced} invalid bytes" in doc.warnings[0]
    assert "U+FFFD" in doc.warnings[0]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.txt", "empty file (0 bytes)"),
        ("random.bin", "binary content"),
        ("truncated.pdf", "corrupt or truncated PDF"),
    ],
)
def test_unreadable_files_fail_with_their_reason(name: str, reason: str) -> None:
    with pytest.raises(UnreadableFileError, match=re.escape(reason)):
        parse(BAD / name, (BAD / name).read_bytes())


def test_random_bytes_are_not_text() -> None:
    with pytest.raises(NotTextError):
        decode_text((BAD / "random.bin").read_bytes())


def test_text_file_named_pdf_is_read_as_text_with_a_warning() -> None:
    kind, doc = parse(BAD / "not_really.pdf", (BAD / "not_really.pdf").read_bytes())
    assert kind == "text"
    assert doc.text.strip() == "This is plain text pretending to be a PDF."
    assert doc.warnings == ["not really a .pdf file: read as plain text"]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF8 + NOTES_ZH.encode("utf-8"), "utf-8 (BOM)"),
        (NOTES_ZH.encode("gb18030"), "gb18030"),
        # Characters outside GBK that only GB18030's four-byte sequences can hold.
        (("㐀 " + NOTES_ZH + " 𠀀").encode("gb18030"), "gb18030"),
        (NOTES_ZH.encode("utf-16"), "utf-16"),  # with a BOM
        (codecs.BOM_UTF16_BE + NOTES_ZH.encode("utf-16-be"), "utf-16"),
        # Without a BOM, found by the NUL bytes of its ASCII characters.
        (MIXED.encode("utf-16-le"), "utf-16"),
        (MIXED.encode("utf-16-be"), "utf-16"),
        ("Plain English notes about ducks.\n".encode("utf-16-le"), "utf-16"),
        # Without a BOM and all Chinese: no NUL bytes, found by its common characters.
        ("杜甫的登高是七言律诗中的名篇，被誉为古今七律第一。".encode("utf-16-le"), "utf-16"),
        ("杜甫的登高是七言律诗中的名篇，被誉为古今七律第一。".encode("utf-16-be"), "utf-16"),
        ("風急天高猿嘯哀，渚清沙白鳥飛回。".encode("big5"), "big5"),
    ],
    ids=[
        "utf8-bom",
        "gb18030",
        "gb18030-4byte",
        "utf16-bom",
        "utf16be-bom",
        "utf16le-nobom-mixed",
        "utf16be-nobom-mixed",
        "utf16le-nobom-ascii",
        "utf16le-nobom-chinese",
        "utf16be-nobom-chinese",
        "big5",
    ],
)
def test_generated_encodings_round_trip(data: bytes, encoding: str) -> None:
    decoded = decode_text(data)
    assert decoded.encoding == encoding
    assert decoded.text == data.decode(_python_codec(decoded.encoding, data))
    assert "\ufeff" not in decoded.text  # a BOM is not part of the text
    assert decoded.replaced == 0


def _python_codec(encoding: str, data: bytes) -> str:
    if encoding == "utf-8 (BOM)":
        return "utf-8-sig"
    if encoding == "utf-16" and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16-be" if data[0] == 0 or data[:2] == "杜".encode("utf-16-be") else "utf-16-le"
    return encoding


def test_utf8_bom_file_parses_without_bom_in_title(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes(codecs.BOM_UTF8 + "# 标题\n\n正文。\n".encode())
    kind, doc = parse(path, path.read_bytes())
    assert kind == "markdown"
    assert doc.title == "标题"  # the BOM did not hide the heading
    assert doc.sections[0].heading == "标题"


def test_crlf_line_endings_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "dos.txt"
    path.write_bytes("第一行。\r\n第二行。\r\n".encode("gb18030"))
    _, doc = parse(path, path.read_bytes())
    assert doc.text == "第一行。\n第二行。"
