"""The SQLite FTS5 index: Chinese segmentation, traditional/simplified folding, English, stopwords."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vectorstore import FileRecord, StoredChunk
from vectorstore.lexical import LexicalIndex
from vectorstore.text import normalise, query_terms, segment


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LexicalIndex]:
    idx = LexicalIndex(tmp_path / "kb.sqlite")
    yield idx
    idx.close()


def put(index: LexicalIndex, path: str, *texts: str, title: str = "", heading: str = "") -> list[str]:
    chunks = [
        StoredChunk(f"{path}:{i}", text, {"title": title, "heading": heading, "source": path})
        for i, text in enumerate(texts)
    ]
    record = FileRecord(path, "hash-" + path, 1, 1, title, "text", tuple(c.id for c in chunks))
    index.replace_file(record, chunks, 0.0)
    return [c.id for c in chunks]


def hits(index: LexicalIndex, query: str) -> list[str]:
    return [h.id for h in index.search(query)]


def test_traditional_text_is_found_by_a_simplified_query(index: LexicalIndex) -> None:
    [poem] = put(index, "/poem.txt", "杜甫《登高》：風急天高猿嘯哀，渚清沙白鳥飛回。")
    put(index, "/other.txt", "白日依山尽，黄河入海流。")
    assert hits(index, "风急天高") == [poem]
    assert hits(index, "鸟飞回") == [poem]
    # The stored text stays as written.
    assert index.search("风急天高")[0].text.startswith("杜甫《登高》：風急天高")


def test_simplified_text_is_found_by_a_traditional_query(index: LexicalIndex) -> None:
    [notes] = put(index, "/notes.txt", "首联写登高所见：风急天高，猿声哀啸。")
    put(index, "/other.txt", "白日依山尽，黄河入海流。")
    assert hits(index, "風急天高") == [notes]
    assert hits(index, "猿聲") == [notes]


def test_chinese_words_inside_long_sentences_are_found(index: LexicalIndex) -> None:
    [law] = put(index, "/law.md", "国家建立数据分类分级保护制度，对数据实行分类分级保护。")
    put(index, "/cook.md", "五花肉切块，焯水后加冰糖炒出糖色。")
    assert hits(index, "分级保护") == [law]
    assert hits(index, "冰糖") == ["/cook.md:0"]
    assert hits(index, "数据安全法有哪些规定") == [law]  # any query word may match


def test_english_search_with_stemming_and_ranking(index: LexicalIndex) -> None:
    put(index, "/ducks.md", "Ducks are swimming in the lake. The duck eats bread near the lake shore.")
    put(index, "/engines.md", "Running engines were tested by the engineers.")
    put(index, "/mixed.md", "One duck, and a lot of unrelated words about gardens, flowers and trees.")
    assert hits(index, "duck swim")[0] == "/ducks.md:0"  # both words (stemmed) beat one
    assert set(hits(index, "duck")) == {"/ducks.md:0", "/mixed.md:0"}
    assert hits(index, "run engine") == ["/engines.md:0"]
    assert hits(index, "DUCKS") == hits(index, "ducks")
    scores = [h.score for h in index.search("duck lake")]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


def test_titles_and_headings_are_searchable(index: LexicalIndex) -> None:
    put(index, "/a.md", "Plain text with nothing special.", title="Volcano handbook", heading="Eruptions")
    assert hits(index, "volcano") == ["/a.md:0"]
    assert hits(index, "eruptions") == ["/a.md:0"]


def test_stopwords_are_dropped_unless_nothing_else_is_left(index: LexicalIndex) -> None:
    assert query_terms("what is the duck") == ["duck"]
    chinese = query_terms("什么是登高")
    assert "登高" in chinese
    assert not {"什么", "是"} & set(chinese)
    assert query_terms("the") == ["the"]
    put(index, "/a.md", "The duck is here.")
    put(index, "/b.md", "What is that thing?")
    assert hits(index, "what is the duck") == ["/a.md:0"]
    assert hits(index, "") == []
    assert hits(index, "，。！") == []


def test_queries_with_fts_syntax_are_taken_literally(index: LexicalIndex) -> None:
    put(index, "/a.md", 'He said "hello" AND left; NEAR the door (maybe).')
    for query in ['"hello', "AND OR NOT", "NEAR(", "door*", "-left"]:
        index.search(query)  # must not raise an FTS5 syntax error
    assert hits(index, '"hello" AND') == ["/a.md:0"]


def test_normalisation() -> None:
    assert normalise("ＡＢＣ１２３") == "abc123"  # full-width to half-width, lower case
    assert normalise("風急天高") == "风急天高"
    assert "登高" in segment("杜甫的登高")


def test_replacing_a_file_replaces_its_rows(index: LexicalIndex) -> None:
    put(index, "/a.md", "old words about ducks", "more old words")
    put(index, "/b.md", "other file about ducks")
    gone = index.replace_file(
        FileRecord("/a.md", "h2", 2, 2, "", "text", ("/a.md:new",)),
        [StoredChunk("/a.md:new", "new words about swans", {})],
        0.0,
    )
    assert sorted(gone) == ["/a.md:0", "/a.md:1"]
    assert hits(index, "ducks") == ["/b.md:0"]
    assert hits(index, "swans") == ["/a.md:new"]
    assert index.counts() == (2, 2)
    assert index.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == 2
    assert index.remove_file("/a.md") == ["/a.md:new"]
    assert index.files() == {"/b.md": index.file("/b.md")}


def test_manifest_under_a_folder_does_not_match_a_sibling_prefix(index: LexicalIndex) -> None:
    put(index, "/data/notes/a.md", "a")
    put(index, "/data/notes2/b.md", "b")
    assert list(index.files(under="/data/notes")) == ["/data/notes/a.md"]
    assert list(index.files(under="/data/notes/")) == ["/data/notes/a.md"]
    assert list(index.files(under="/data/notes/a.md")) == ["/data/notes/a.md"]  # a single file


def test_schema_is_migrated_once(tmp_path: Path) -> None:
    first = LexicalIndex(tmp_path / "kb.sqlite")
    version = first.db.execute("PRAGMA user_version").fetchone()[0]
    put(first, "/a.md", "kept across reopen")
    first.close()
    again = LexicalIndex(tmp_path / "kb.sqlite")
    try:
        assert again.db.execute("PRAGMA user_version").fetchone()[0] == version >= 1
        assert [h.id for h in again.search("reopen")] == ["/a.md:0"]
    finally:
        again.close()


def test_outdated_tokenization_is_rebuilt_once_on_open(tmp_path: Path) -> None:
    from vectorstore.lexical import TOKENIZER_VERSION

    path = tmp_path / "kb.sqlite"
    index = LexicalIndex(path)
    index.replace_file(
        FileRecord("/p.txt", "h", 1, 1, "p", "text", ("c1",)),
        [StoredChunk("c1", "渚清沙白鸟飞回", {}, tokens="stale")],
        0.0,
    )
    assert index.search("沙白") == []  # the row holds only the stale token
    index.set_meta("tokenizer", "0")
    index.close()

    reopened = LexicalIndex(path)
    assert reopened.get_meta("tokenizer") == TOKENIZER_VERSION
    assert [h.id for h in reopened.search("沙白")] == ["c1"]
    reopened.close()
