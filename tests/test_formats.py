"""Format readers: each shared document parses into located sections; broken files fail clearly."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfWriter

from ingest.chunking import Chunker
from ingest.formats import ParsedDocument, UnreadableFileError, kind_of, parse

from corpus import DOCS


def parsed(name: str) -> tuple[str, ParsedDocument]:
    path = DOCS / name
    return parse(path, path.read_bytes())


def headings(doc: ParsedDocument) -> list[str]:
    return [s.heading for s in doc.sections]


def section_text(doc: ParsedDocument, index: int) -> str:
    section = doc.sections[index]
    return doc.text[section.start : section.end]


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*") if p.is_file())
)
def test_every_shared_document_parses_into_valid_sections(path: str) -> None:
    kind, doc = parsed(path)
    assert kind in {"pdf", "markdown", "html", "docx", "epub", "json"}
    assert doc.title.strip()
    assert doc.sections and doc.text.strip()
    assert doc.warnings == []
    previous_end = 0
    for section in doc.sections:
        assert previous_end <= section.start < section.end <= len(doc.text)
        assert doc.text[section.start : section.end].strip()
        previous_end = section.end


def test_pdf_sections_carry_page_numbers() -> None:
    kind, doc = parsed("redp5110_sampled.pdf")
    assert kind == "pdf"
    pages = [s.page for s in doc.sections]
    assert pages == sorted(pages) and len(set(pages)) == len(pages)
    assert pages[0] == 1 and len(pages) > 10
    assert "Front cover" in section_text(doc, 0)
    on_page = {s.page: doc.text[s.start : s.end] for s in doc.sections}
    assert [p for p, text in on_page.items() if "Solution Brief" in text] == [3]
    assert [p for p, text in on_page.items() if "1.1 Security fundamentals\nBefore" in text] == [6]
    # Chunks keep the page they come from.
    chunks = Chunker().chunk(doc, source="/r.pdf", content_hash="0" * 40, kind=kind)
    assert next(c for c in chunks if "1.1 Security fundamentals\nBefore" in c.text).metadata["page"] == 6


def test_single_page_pdf() -> None:
    _, doc = parsed("2305.03393v1-pg9.pdf")
    assert [s.page for s in doc.sections] == [1]
    assert "Optimized Table Tokenization for Table Structure Recognition" in doc.text


def test_markdown_heading_paths_and_title() -> None:
    _, doc = parsed("wiki.md")
    assert doc.title == "IBM"
    assert headings(doc) == ["IBM", "IBM > 1910s–1950s", "IBM > 1960s–1980s"]
    assert section_text(doc, 1).startswith("## 1910s–1950s")  # the heading stays in its text

    _, law = parsed("zh/个人信息保护法.md")
    assert law.title == "中华人民共和国个人信息保护法"
    assert "中华人民共和国个人信息保护法 > 第二章 个人信息处理规则 > 第一节 一般规定" in headings(law)


def test_markdown_structure_rules(tmp_path: Path) -> None:
    source = (
        "Title\n=====\n\nIntro text.\n\n"
        "```\n# not a heading inside a fence\n```\n\n"
        "Part two\n--------\n\nBody of part two.\n<!-- hidden comment -->\n"
        "### Deeper ###\n\nDeep text.\n"
    )
    _, doc = parse(tmp_path / "rules.md", source.encode())
    assert doc.title == "Title"
    assert headings(doc) == ["Title", "Title > Part two", "Title > Part two > Deeper"]
    assert "# not a heading inside a fence" in section_text(doc, 0)
    assert "hidden comment" not in doc.text


def test_html_title_comes_from_the_page_and_boilerplate_is_dropped() -> None:
    kind, blog = parsed("blog.html")
    assert kind == "html"
    assert blog.title == (
        "Does Model and Inference Parameter Matter in LLM Applications? - A Case Study for MATH | AutoGen"
    )
    assert "Experiment Setup" in headings(blog)

    _, duck = parsed("wiki_duck.html")
    assert duck.title == "Duck - Wikipedia"
    assert "Duck > Behaviour > Feeding" in headings(duck)
    assert "Jump to content" not in duck.text  # navigation is not main text
    assert "\\[1\\]" not in duck.text and "<sup" not in duck.text  # footnote markers tidied


def test_docx_headings() -> None:
    kind, doc = parsed("word_sample.docx")
    assert kind == "docx"
    assert "Let’s swim! > Let’s eat" in headings(doc)
    _, autogen = parsed("autogen.docx")
    assert {"Abstract", "Introduction"} <= set(headings(autogen))
    abstract = headings(autogen).index("Abstract")
    assert "AutoGen is an open-source framework" in section_text(autogen, abstract)


def test_epub_chapters_in_reading_order() -> None:
    kind, doc = parsed("sample.epub")
    assert kind == "epub"
    assert doc.title == "Test EPUB Document"
    chapters = [h for h in headings(doc) if h.startswith("Chapter")]
    assert chapters == ["Chapter 1: Test Content", "Chapter 2: More Content"]
    second = headings(doc).index("Chapter 2: More Content")
    assert "second chapter" in section_text(doc, second)


def test_json_records_are_one_section_each_in_traditional_characters() -> None:
    path = DOCS / "zh" / "poet.tang.11000.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    kind, doc = parse(path, path.read_bytes())
    assert kind == "json"
    assert len(doc.sections) == len(records) == 1000
    deng_gao = doc.sections[389]
    assert deng_gao.heading == "登高"
    text = doc.text[deng_gao.start : deng_gao.end]
    assert "author: 杜甫" in text
    assert "風急天高猨嘯哀，渚清沙白鳥飛迴。" in text  # traditional, as written
    assert "风急" not in text
    assert records[389]["id"] not in text  # opaque ids are left out
    # Each line of the poem stays its own line.
    assert "渚清沙白鳥飛迴。\n無邊落木蕭蕭下" in text


def test_json_lines_and_csv(tmp_path: Path) -> None:
    jsonl = b'{"name": "alpha", "v": 1}\n{"name": "beta", "v": 2}\n'
    _, doc = parse(tmp_path / "rows.jsonl", jsonl)
    assert headings(doc) == ["alpha", "beta"]
    _, table = parse(tmp_path / "t.csv", "城市,人口\n北京,2189\n上海,2487\n".encode())
    assert headings(table) == ["row 2", "row 3"]
    assert section_text(table, 1) == "城市: 上海; 人口: 2487"


def test_extensions_decide_the_reader() -> None:
    assert kind_of(Path("a.PDF")) == ".pdf"
    assert kind_of(Path("main.py")) == ".py"
    assert kind_of(Path("Makefile")) == ".txt"
    assert kind_of(Path("photo.jpg")) == ".jpg"  # read by OCR
    assert kind_of(Path("clip.mp4")) is None
    assert kind_of(Path("notes.unknownext")) == ""  # sniffed as text


def _encrypted_pdf(user_password: str = "secret") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password=user_password, owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_password_protected_pdf_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="password-protected PDF"):
        parse(tmp_path / "locked.pdf", _encrypted_pdf())


def test_pdf_without_text_fails_clearly_and_is_not_read_as_source(tmp_path: Path) -> None:
    # An unprotected, textless PDF (what a scan looks like): its PDF syntax is not a document.
    with pytest.raises(UnreadableFileError, match="no extractable text"):
        parse(tmp_path / "scan.pdf", _encrypted_pdf(user_password=""))


def test_corrupt_docx_fails_clearly(tmp_path: Path) -> None:
    data = (DOCS / "autogen.docx").read_bytes()
    with pytest.raises(UnreadableFileError, match=r"not a valid \.docx file"):
        parse(tmp_path / "cut.docx", data[: len(data) // 2])

    # A zip without Word's parts.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not word")
    with pytest.raises(UnreadableFileError, match=r"not a valid \.docx file"):
        parse(tmp_path / "zip.docx", buffer.getvalue())


def test_encrypted_office_file_fails_clearly(tmp_path: Path) -> None:
    # Password-protected .docx files are OLE compound files, not zips.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    with pytest.raises(UnreadableFileError, match="password-protected"):
        parse(tmp_path / "locked.docx", ole)


def test_corrupt_epub_fails_clearly(tmp_path: Path) -> None:
    data = (DOCS / "sample.epub").read_bytes()
    with pytest.raises(UnreadableFileError, match="not a readable EPUB"):
        parse(tmp_path / "cut.epub", data[: len(data) // 2])
