"""Folder sync: add, skip unchanged, replace changed, drop deleted or ignored files, in both stores."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pytest

from ingest import FileDone, SyncFinished, SyncStarted, SyncSummary, sync
from vectorstore import KnowledgeBase

from corpus import english, write_files
from kb_state import kb_state

SUMMARY_KEYS = {
    "files_seen",
    "files_added",
    "files_updated",
    "files_unchanged",
    "files_removed",
    "files_failed",
    "chunks_added",
    "chunks_removed",
    "seconds",
}


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return write_files(
        tmp_path / "notes",
        {
            "ducks.md": english("ducks"),
            "engines.txt": english("engines", sentences=30),
            "sub/gardens.md": english("gardens"),
            "sub/photo.png": blank_png(),  # no text in it: skipped after OCR finds none
        },
    )


def blank_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(out, format="PNG")
    return out.getvalue()


def vector_ids(kb: KnowledgeBase, ids: list[str]) -> list[str]:
    return kb.collection.get(ids=ids, include=[])["ids"]


def ids_of(kb: KnowledgeBase, path: Path) -> tuple[str, ...]:
    record = kb.index.file(str(path.resolve()))
    assert record is not None, f"{path} is not in the manifest"
    return record.chunk_ids


def test_first_sync_adds_every_document(open_kb, notes: Path) -> None:
    kb = open_kb()
    events = []
    summary = sync(kb, notes, on_event=events.append)

    assert summary.files_seen == 4
    assert (summary.files_added, summary.files_skipped, summary.files_failed) == (3, 1, [])
    state = kb_state(kb)
    state.assert_consistent()
    assert summary.chunks_added == len(state.chunk_ids) > 3
    assert set(state.manifest) == {
        str((notes / p).resolve()) for p in ("ducks.md", "engines.txt", "sub/gardens.md")
    }

    assert isinstance(events[0], SyncStarted) and events[0].total_files == 4
    assert isinstance(events[-1], SyncFinished) and events[-1].summary is summary
    done = {Path(e.path).name: e.status for e in events if isinstance(e, FileDone)}
    assert done == {
        "ducks.md": "added",
        "engines.txt": "added",
        "gardens.md": "added",
        "photo.png": "skipped",
    }

    # Both retrieval paths find what was ingested.
    assert kb.lexical_search("engines habits")[0].metadata["source"].endswith("engines.txt")
    assert kb.dense_search("ducks", k=1)[0].metadata["source"].endswith("ducks.md")


def test_second_sync_changes_nothing(open_kb, notes: Path) -> None:
    kb = open_kb()
    sync(kb, notes)
    before = kb_state(kb)
    summary = sync(kb, notes)
    assert (summary.files_unchanged, summary.files_added, summary.files_updated) == (3, 0, 0)
    assert (summary.chunks_added, summary.chunks_removed, summary.files_removed) == (0, 0, 0)
    after = kb_state(kb)
    assert after == before  # same Chroma ids and texts, same rows, same FTS tokens, same manifest


def test_summary_serialises_with_the_documented_keys(open_kb, notes: Path) -> None:
    write_files(notes, {"empty.txt": ""})
    summary = sync(open_kb(), notes).to_dict()
    assert SUMMARY_KEYS <= set(summary)
    assert summary["files_failed"] == [
        {"path": str((notes / "empty.txt").resolve()), "error": "empty file (0 bytes), nothing to index"}
    ]
    assert isinstance(summary["seconds"], float)


def test_modified_file_replaces_its_chunks_in_both_stores(open_kb, notes: Path) -> None:
    kb = open_kb()
    sync(kb, notes)
    path = notes / "ducks.md"
    old_ids = ids_of(kb, path)
    assert kb.lexical_search("ducks")

    path.write_text(english("penguins"), encoding="utf-8")
    summary = sync(kb, notes)
    assert (summary.files_updated, summary.files_unchanged) == (1, 2)
    assert summary.chunks_removed == len(old_ids)

    new_ids = ids_of(kb, path)
    assert not set(old_ids) & set(new_ids)
    assert vector_ids(kb, list(old_ids)) == []
    assert not set(old_ids) & kb.index.chunk_ids()
    assert kb.lexical_search("ducks") == []  # the old words are gone from the FTS index
    assert {h.id for h in kb.lexical_search("penguins")} == set(new_ids)
    assert sorted(vector_ids(kb, list(new_ids))) == sorted(new_ids)
    kb_state(kb).assert_consistent()


def test_touched_but_unchanged_file_is_not_reembedded(open_kb, notes: Path) -> None:
    kb = open_kb()
    sync(kb, notes)
    before = kb_state(kb)
    path = notes / "ducks.md"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    summary = sync(kb, notes)
    assert (summary.files_unchanged, summary.chunks_added) == (3, 0)
    assert kb.index.file(str(path.resolve())).mtime_ns == path.stat().st_mtime_ns  # remembered
    assert kb_state(kb).chunk_ids == before.chunk_ids


def test_deleted_file_is_removed_from_both_stores(open_kb, notes: Path) -> None:
    kb = open_kb()
    sync(kb, notes)
    gone = ids_of(kb, notes / "engines.txt")
    (notes / "engines.txt").unlink()
    summary = sync(kb, notes)
    assert (summary.files_removed, summary.chunks_removed) == (1, len(gone))
    assert vector_ids(kb, list(gone)) == []
    assert kb.lexical_search("engines") == []
    kb_state(kb).assert_consistent()


def test_file_newly_matched_by_assistantignore_is_removed(open_kb, notes: Path) -> None:
    kb = open_kb()
    sync(kb, notes)
    gone = ids_of(kb, notes / "sub" / "gardens.md")
    write_files(notes, {"sub/.assistantignore": "gardens.md\n"})
    summary = sync(kb, notes)
    assert summary.files_removed == 1
    assert str((notes / "sub" / "gardens.md").resolve()) not in kb.index.files()
    assert vector_ids(kb, list(gone)) == []
    kb_state(kb).assert_consistent()


def test_two_folders_in_one_base_are_synced_independently(open_kb, tmp_path: Path) -> None:
    # "notes2" starts with "notes": a prefix match must not count it as inside "notes".
    first = write_files(tmp_path / "notes", {"a.md": english("apples"), "b.md": english("bananas")})
    second = write_files(tmp_path / "notes2", {"c.md": english("cherries")})
    kb = open_kb()
    sync(kb, first)
    sync(kb, second)
    assert len(kb.index.files()) == 3

    (first / "b.md").unlink()
    (first / "a.md").write_text(english("apricots"), encoding="utf-8")
    summary = sync(kb, first)
    assert (summary.files_seen, summary.files_updated, summary.files_removed) == (1, 1, 1)
    assert sorted(Path(p).name for p in kb.index.files()) == ["a.md", "c.md"]
    assert kb.lexical_search("cherries")
    kb_state(kb).assert_consistent()

    # Syncing an empty folder removes only what came from it.
    (first / "a.md").unlink()
    sync(kb, first)
    assert [Path(p).name for p in kb.index.files()] == ["c.md"]


def test_single_file_path(open_kb, notes: Path) -> None:
    kb = open_kb()
    summary = sync(kb, notes / "ducks.md")
    assert (summary.files_seen, summary.files_added) == (1, 1)
    assert list(kb.index.files()) == [str((notes / "ducks.md").resolve())]
    assert sync(kb, notes / "ducks.md").files_unchanged == 1
    # The folder sync later adopts it without re-adding it.
    summary = sync(kb, notes)
    assert (summary.files_added, summary.files_unchanged) == (2, 1)


def test_failures_are_reported_and_do_not_stop_the_run(open_kb, notes: Path) -> None:
    blob = random.Random(0).randbytes(2048).replace(b"\x00", b"\x01")  # no NULs: not UTF-16 either
    write_files(notes, {"empty.txt": "", "blob.bin": blob})
    kb = open_kb()
    summary = sync(kb, notes)
    assert summary.files_added == 3
    failed = {Path(f.path).name: f.error for f in summary.files_failed}
    assert set(failed) == {"empty.txt", "blob.bin"}
    assert "empty file" in failed["empty.txt"]
    assert "binary content" in failed["blob.bin"]
    assert str((notes / "empty.txt").resolve()) not in kb.index.files()


def test_warnings_are_collected(open_kb, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "w", {"fake.pdf": "Plain text saved with a .pdf name.\n"})
    summary = sync(open_kb(), folder)
    assert summary.files_added == 1
    assert [(Path(w.path).name, w.warning) for w in summary.warnings] == [
        ("fake.pdf", "not really a .pdf file: read as plain text")
    ]


def test_missing_root_is_an_error(open_kb, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sync(open_kb(), tmp_path / "nowhere")


def test_summary_defaults_are_zero() -> None:
    empty = SyncSummary().to_dict()
    assert all(empty[key] in (0, 0.0, []) for key in SUMMARY_KEYS)


class CountingEmbedder:
    """Wraps a base's embedder and counts the texts it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner, self.texts = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts += len(texts)
        return self.inner.embed_documents(texts)

    def embed_documents_in_steps(self, texts: list[str], on_step) -> list[list[float]]:
        self.texts += len(texts)
        return self.inner.embed_documents_in_steps(texts, on_step)


def test_moved_folder_reuses_vectors_instead_of_reembedding(open_kb, tmp_path: Path, monkeypatch) -> None:
    library = tmp_path / "library"
    notes = write_files(
        library / "notes", {"ducks.md": english("ducks"), "sub/gardens.md": english("gardens")}
    )
    kb = open_kb()
    first = sync(kb, library)
    vectors_before = kb.collection.get(include=["embeddings", "documents"])
    by_text = dict(zip(vectors_before["documents"], map(list, vectors_before["embeddings"]), strict=True))

    counting = CountingEmbedder(kb.embedder)
    monkeypatch.setattr(kb._embedder, "_made", counting)
    moved = library / "renamed-notes"
    notes.rename(moved)
    summary = sync(kb, library)

    assert (summary.files_added, summary.files_removed) == (2, 2)
    assert counting.texts == 0  # nothing was embedded again
    assert summary.chunks_added == first.chunks_added
    after = kb.collection.get(include=["embeddings", "documents", "metadatas"])
    assert {m["source"] for m in after["metadatas"]} <= {str(p.resolve()) for p in moved.rglob("*")}
    for text, vector in zip(after["documents"], after["embeddings"], strict=True):
        assert list(vector) == pytest.approx(by_text[text])
    kb_state(kb).assert_consistent()


def test_duplicate_chunks_within_one_run_are_embedded_once(open_kb, tmp_path: Path, monkeypatch) -> None:
    kb = open_kb()
    counting = CountingEmbedder(kb.embedder)
    monkeypatch.setattr(kb._embedder, "_made", counting)
    text = english("ducks")
    folder = write_files(tmp_path / "copies", {"a/ducks.md": text, "b/ducks.md": text})
    summary = sync(kb, folder, batch_size=1000)
    assert summary.files_added == 2
    assert counting.texts == summary.chunks_added // 2
    kb_state(kb).assert_consistent()


def test_file_that_becomes_unreadable_loses_its_old_chunks(open_kb, notes: Path) -> None:
    kb = open_kb()
    sync(kb, notes)
    path = notes / "ducks.md"
    gone = ids_of(kb, path)
    path.write_bytes(b"")
    summary = sync(kb, notes)
    assert [f.path for f in summary.files_failed] == [str(path.resolve())]
    assert "previously indexed chunks were removed" in summary.files_failed[0].error
    assert summary.chunks_removed == len(gone)
    assert vector_ids(kb, list(gone)) == []
    assert kb.index.file(str(path.resolve())) is None
    kb_state(kb).assert_consistent()
