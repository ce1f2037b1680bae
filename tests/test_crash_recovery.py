"""An ingest killed at any moment converges on the next run to what one clean run builds."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from ingest import sync
from vectorstore import KnowledgeBase, KnowledgeBaseBusyError, StoredChunk

from corpus import english, write_files
from ingest_process import IngestProcess, added, assistant_command, generated_folder
from kb_state import kb_state, sqlite_counts


@pytest.mark.slow
def test_ingest_killed_at_any_moment_converges(tmp_path: Path, minilm) -> None:
    folder = generated_folder(tmp_path / "docs")
    home = tmp_path / "crashed"

    # 1. While starting up, before the base is even opened.
    run = IngestProcess(home, folder)
    time.sleep(0.5)
    run.kill()

    # 2. Just after the sync began, while the readers start (reading 40 small files takes well
    #    under a second now: a later kill would leave nothing for step 3 to add).
    run = IngestProcess(home, folder)
    assert run.wait_for(lambda lines: any(line.startswith("ingesting ") for line in lines))
    time.sleep(0.1)
    run.kill()

    # 3. Right after the first file was committed: other files of that batch are half done.
    run = IngestProcess(home, folder)
    assert run.wait_for(lambda lines: added(lines) >= 1)
    run.kill()
    files, _, dirty = sqlite_counts(home)
    assert 1 <= files < 40, "the kill should have left a partly ingested base"
    assert dirty == "1", "a killed writer leaves the base marked dirty"

    # 4. To completion.
    run = IngestProcess(home, folder)
    assert run.finish() == 0, run.seen[-10:]
    run.wait_for(lambda lines: False)  # drain the output
    assert any(line.startswith("default: ") and "0 failed" in line for line in run.seen), run.seen[-3:]
    assert sqlite_counts(home)[2] is None  # clean again

    # A clean single run of the same folder in another home.
    reference_home = tmp_path / "clean"
    with KnowledgeBase.open(reference_home, "default", embedder="minilm") as clean:
        summary = sync(clean, folder)
        assert summary.files_added == 40
        expected = kb_state(clean)
    with KnowledgeBase.open(home, "default") as recovered:
        assert recovered.embedder_id == clean.embedder_id
        got = kb_state(recovered)
        assert recovered.vector_count() == len(got.chunk_ids)

    got.assert_consistent()
    expected.assert_consistent()
    assert got.manifest == expected.manifest
    assert set(got.vector_ids) == set(expected.vector_ids)
    assert set(got.chunk_ids) == set(expected.chunk_ids)
    assert got.chunk_texts == expected.chunk_texts
    assert got.fts_tokens == expected.fts_tokens
    assert got.embedded == expected.embedded


def _stray(ids: list[str]) -> list[StoredChunk]:
    return [StoredChunk(i, f"half-written chunk {i}", {"source": "/gone.txt"}) for i in ids]


def test_reconcile_removes_vectors_the_manifest_does_not_know(open_kb, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "docs", {"kept.md": english("harbors")})
    kb = open_kb()
    sync(kb, folder)
    committed = kb_state(kb)

    # What a writer killed between its Chroma upsert and its SQLite commit leaves behind:
    # vectors no manifest entry owns, and the dirty mark that begin_write() set.
    stray = ["ffffffffffffffff:000000000000:00000", "ffffffffffffffff:000000000000:00001"]
    kb.upsert_vectors(_stray(stray), kb.embedder.embed_documents(["a", "b"]))
    kb.index.set_meta("dirty", "1")
    kb.close()
    assert sqlite_counts(kb.folder.parents[1])[2] == "1"

    again = open_kb()
    assert again.vector_count() == len(committed.chunk_ids) + 2
    again.begin_write()
    try:
        assert again.collection.get(ids=stray, include=[])["ids"] == []
        assert kb_state(again) == committed
    finally:
        again.end_write()
    assert again.index.get_meta("dirty") is None


def test_reconcile_counts_what_it_removed(open_kb, tmp_path: Path) -> None:
    kb = open_kb()
    sync(kb, write_files(tmp_path / "docs", {"a.md": english("meadows")}))
    kb.upsert_vectors(_stray(["stray:1"]), kb.embedder.embed_documents(["x"]))
    assert kb.reconcile() == 1
    assert kb.reconcile() == 0
    kb_state(kb).assert_consistent()


def test_a_clean_finish_leaves_nothing_to_reconcile(open_kb, tmp_path: Path) -> None:
    kb = open_kb()
    sync(kb, write_files(tmp_path / "docs", {"a.md": english("lanterns")}))
    assert kb.index.get_meta("dirty") is None
    assert kb.reconcile() == 0


def test_two_writers_never_interleave(open_kb, tmp_path: Path) -> None:
    first, second = open_kb(), open_kb()
    first.begin_write()
    try:
        with pytest.raises(KnowledgeBaseBusyError, match="being written by another process"):
            second.begin_write()
        with pytest.raises(KnowledgeBaseBusyError):
            sync(second, write_files(tmp_path / "docs", {"a.md": english("violins")}))
    finally:
        first.end_write()
    second.begin_write()  # free again
    second.end_write()


@pytest.mark.slow
def test_killed_while_embedding_the_base_is_searchable_and_a_rerun_finishes_it(
    tmp_path: Path, minilm
) -> None:
    folder = generated_folder(tmp_path / "docs")
    home = tmp_path / "crashed"

    run = IngestProcess(home, folder)
    assert run.wait_for(lambda lines: any(line.startswith("searchable ") for line in lines))
    run.kill()
    files, chunks, dirty = sqlite_counts(home)
    assert files == 40 and dirty == "1"
    with KnowledgeBase.open(home, "default") as interrupted:
        assert interrupted.stats().embedded_chunks < chunks, "killed before the embedding finished"

    # `assistant search` answers from the interrupted base, by words.
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    found = subprocess.run(
        [*assistant_command(), "search", "Document 17 paragraph 2", "--json", "-k", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert found.returncode == 0, found.stderr[-2000:]
    assert "doc17.txt" in found.stdout

    run = IngestProcess(home, folder)
    assert run.finish() == 0, run.seen[-10:]
    run.wait_for(lambda lines: False)
    assert any(line.startswith("default: ") and "0 added" in line for line in run.seen), run.seen[-3:]

    with KnowledgeBase.open(tmp_path / "clean", "default", embedder="minilm") as clean:
        sync(clean, folder)
        expected = kb_state(clean)
    with KnowledgeBase.open(home, "default") as recovered:
        got = kb_state(recovered)
        assert recovered.stats().embedded_chunks == len(got.chunk_ids) == recovered.vector_count()
    got.assert_consistent()
    assert got.manifest == expected.manifest
    assert set(got.vector_ids) == set(expected.vector_ids)
    assert got.chunk_texts == expected.chunk_texts
    assert got.fts_tokens == expected.fts_tokens
    assert got.embedded == expected.embedded
