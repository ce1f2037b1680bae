"""Searchable at once, embedded after: an ingest commits every file lexically before it embeds,
and an interrupted embedding resumes where it stopped, without redoing work."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.retrieval import KBRetriever
from assistant.retrieval.fusion import Ranked, fuse
from ingest import ChunksEmbedded, EmbeddingStarted, FileDone, embed_pending, sync
from ingest.reading import content_hash
from ingest.sync import _embed_text
from vectorstore.lexical import LexicalIndex

from corpus import english, write_files
from kb_state import kb_state
from legacy_index import numbered_index

TOPICS = ("ducks", "owls", "harbors", "lanterns", "meadows", "violins")


def notes(root: Path) -> Path:
    return write_files(root, {f"{topic}.md": english(topic) for topic in TOPICS})


def embedded_flags(kb) -> dict[str, int]:
    return dict(kb.index.db.execute("SELECT id, embedded FROM chunks"))


def stored_vectors(kb) -> dict[str, list[float]]:
    got = kb.collection.get(include=["embeddings"])
    return {i: list(v) for i, v in zip(got["ids"], got["embeddings"], strict=True)}


class Interrupt(KeyboardInterrupt):
    """What Ctrl+C raises, from inside the embedder after a given number of batches."""


@pytest.fixture
def counting(minilm, monkeypatch):
    """Counts the texts the embedder embeds; `stop_after` batches, then raises Interrupt."""
    state = {"texts": 0, "batches": 0, "stop_after": None}
    real = minilm.embed_documents

    def embed_documents(texts):
        if state["stop_after"] is not None and state["batches"] >= state["stop_after"]:
            raise Interrupt
        state["batches"] += 1
        state["texts"] += len(texts)
        return real(texts)

    monkeypatch.setattr(minilm, "embed_documents", embed_documents)
    # Resumed and clean builds are compared vector by vector to 1e-4: MiniLM runs in fp32 here,
    # as on a CPU without bfloat16 (in bf16 a vector moves in the third decimal with its batch's
    # shape and the threads' split, so two builds that batch differently are not that close).
    model = minilm.documents
    bf16 = model._bf16
    if bf16:
        monkeypatch.setattr(model, "_bf16", False)
        model._model.float()
    yield state
    if bf16:
        import torch

        model._model.to(torch.bfloat16)


def test_every_file_is_searchable_before_any_chunk_is_embedded(open_kb, tmp_path: Path) -> None:
    kb = open_kb()
    seen: dict[str, object] = {}

    def on_event(event) -> None:
        if isinstance(event, EmbeddingStarted):
            # The moment the base becomes searchable: all files committed, no vector yet.
            seen["files_done"] = sum(isinstance(e, FileDone) for e in seen.get("events", []))
            seen["hits"] = [h.metadata["source"] for h in kb.lexical_search("owls", 3)]
            seen["stats"] = kb.stats()
            seen["vectors"] = kb.vector_count()
            seen["total"] = event.total
        seen.setdefault("events", []).append(event)

    summary = sync(kb, notes(tmp_path / "notes"), on_event=on_event, batch_size=4)
    chunks = summary.chunks_added
    assert seen["files_done"] == len(TOPICS)
    assert seen["hits"][0].endswith("owls.md")
    assert seen["vectors"] == 0 and seen["total"] == chunks
    assert (seen["stats"].chunks, seen["stats"].embedded_chunks) == (chunks, 0)
    embedded = sum(e.count for e in seen["events"] if isinstance(e, ChunksEmbedded))
    assert embedded == summary.chunks_embedded == chunks
    assert 0 < summary.seconds_to_searchable <= summary.seconds
    assert kb.stats().embedded_chunks == chunks == kb.vector_count()
    kb_state(kb).assert_consistent()


def test_an_interrupted_embedding_resumes_and_ends_equal_to_a_clean_build(
    open_kb, tmp_path: Path, counting
) -> None:
    folder = notes(tmp_path / "notes")
    kb = open_kb()
    counting["stop_after"] = 2
    with pytest.raises(Interrupt):
        sync(kb, folder, batch_size=4)
    first = counting["texts"]
    chunks, embedded = kb.stats().chunks, kb.stats().embedded_chunks
    assert embedded == first == 8, "two batches of four were embedded and recorded"
    assert chunks > embedded
    assert kb.index.get_meta("dirty") is None, "Ctrl+C still releases the base cleanly"

    # Interrupted, the base answers searches; dense retrieval sees only the embedded chunks and
    # the others still rank by their words.
    retriever = KBRetriever(kb)
    try:
        for topic in TOPICS:
            assert retriever.search(topic, k=1)[0].uri.endswith(f"{topic}.md")
    finally:
        retriever.close()

    counting["stop_after"] = None
    summary = sync(kb, folder, batch_size=4)
    assert summary.files_unchanged == len(TOPICS) and summary.files_added == 0
    assert summary.chunks_embedded == chunks - embedded
    assert counting["texts"] - first == chunks - embedded, "no chunk was embedded twice"
    assert kb.stats().embedded_chunks == chunks

    counting["texts"] = 0
    clean = open_kb(at=tmp_path / "clean")
    sync(clean, folder, batch_size=4)
    got, expected = kb_state(kb), kb_state(clean)
    got.assert_consistent()
    assert got.manifest == expected.manifest
    assert set(got.vector_ids) == set(expected.vector_ids)
    assert got.chunk_texts == expected.chunk_texts and got.fts_tokens == expected.fts_tokens
    assert embedded_flags(kb) == embedded_flags(clean)
    vectors, reference = stored_vectors(kb), stored_vectors(clean)
    assert vectors.keys() == reference.keys()
    for chunk_id, vector in vectors.items():
        assert max(abs(a - b) for a, b in zip(vector, reference[chunk_id], strict=True)) < 1e-4


def test_vectors_upserted_but_not_recorded_are_not_embedded_again(open_kb, tmp_path: Path, counting) -> None:
    kb = open_kb()
    counting["stop_after"] = 0  # the lexical phase only
    with pytest.raises(Interrupt):
        sync(kb, notes(tmp_path / "notes"))
    pending = kb.pending_chunks(1000)
    counting["stop_after"] = None
    # A writer killed between its Chroma upsert and marking the chunks embedded:
    kb.upsert_vectors(pending[:3], kb.embedder.embed_documents([c.text for c in pending[:3]]))
    kb.index.set_meta("dirty", "1")
    before = counting["texts"]
    kb.begin_write()  # reconciles: the three vectors count as done
    try:
        assert embed_pending(kb, batch_size=4) == len(pending) - 3
    finally:
        kb.end_write()
    assert counting["texts"] - before == len(pending) - 3, "the three were not embedded again"
    kb_state(kb).assert_consistent()


def test_a_moved_file_reuses_its_vectors_in_the_lexical_phase(open_kb, tmp_path: Path, counting) -> None:
    folder = notes(tmp_path / "notes")
    kb = open_kb()
    sync(kb, folder)
    embedded = counting["texts"]
    (folder / "owls.md").rename(folder / "owls-moved.md")
    summary = sync(kb, folder)
    assert (summary.files_added, summary.files_removed, summary.chunks_embedded) == (1, 1, 0)
    assert counting["texts"] == embedded
    assert kb.stats().embedded_chunks == kb.stats().chunks
    kb_state(kb).assert_consistent()


def test_fusion_does_not_push_down_a_passage_without_a_vector() -> None:
    dense = [Ranked("a", 0.9), Ranked("b", 0.5), Ranked("c", 0.4), Ranked("d", 0.3)]
    lexical = [Ranked("new", 10.0), Ranked("a", 10.0), Ranked("x", 2.0)]
    common = {"query": "q", "embedder_languages": None}
    missing = [r.id for r in fuse(dense, lexical, **common)]
    pending = [r.id for r in fuse(dense, lexical, **common, unembedded={"new"})]
    # Counted as missing from the dense list, "new" falls behind "a", which has the same lexical
    # score; as a passage still being embedded it is ranked as if its vector had matched best.
    assert missing.index("new") > missing.index("a")
    assert pending[:2] == ["new", "a"]  # a tie, broken by lexical order
    assert pending.index("x") > pending.index("new")
    assert [r.id for r in fuse(dense, lexical, **common, unembedded={"x"})][0] == "a"


def test_pending_chunks_are_embedded_from_the_same_text_as_at_reading(open_kb, tmp_path: Path) -> None:
    # The text a chunk was embedded from is not stored: it is rebuilt from the stored text, title
    # and heading, and must hash to what the reader computed (the key for reusing vectors).
    folder = write_files(
        tmp_path / "docs",
        {"guide.md": "# Guide\n\n## Setup\n\n" + english("setup") + "\n## Use\n\n" + english("use")},
    )
    kb = open_kb()
    with pytest.raises(Interrupt):
        sync(kb, folder, on_event=lambda e: _raise_at_embedding(e))
    pending = kb.pending_chunks(100)
    assert len(pending) > 1
    assert any(c.metadata["heading"] for c in pending)
    for chunk in pending:
        assert content_hash(_embed_text(chunk).encode("utf-8")) == chunk.embed_hash


def _raise_at_embedding(event) -> None:
    if isinstance(event, EmbeddingStarted):
        raise Interrupt


def test_bases_from_before_resumable_embedding_count_as_embedded(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite"
    db = numbered_index(path, version=1)
    db.execute(
        "INSERT INTO chunks (id, path, text, metadata, embed_hash) VALUES ('c1', '/a', 't', '{}', 'h')"
    )
    db.close()
    index = LexicalIndex(path)
    try:
        assert index.embedded_count() == 1 and index.pending_chunks(10) == []
    finally:
        index.close()
