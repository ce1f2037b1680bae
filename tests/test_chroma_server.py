"""Server mode: a real `chroma run` on loopback holds the base; this machine keeps a cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import sync
from vectorstore import KnowledgeBase, remove_kb
from vectorstore.storage.shared import vectors_name

from corpus import english, write_files
from fakes_chroma import server_collections
from kb_state import kb_state

pytestmark = pytest.mark.slow


def test_ingest_into_a_chroma_server(chroma_server: str, home: Path, tmp_path: Path, minilm) -> None:
    folder = write_files(
        tmp_path / "notes",
        {"ducks.md": english("ducks"), "owls.md": english("owls"), "sub/bees.txt": english("bees", 30)},
    )
    with KnowledgeBase.open(home, "served", embedder="minilm", chroma_url=chroma_server) as kb:
        summary = sync(kb, folder)
        assert summary.files_added == 3
        state = kb_state(kb)
        state.assert_consistent()
        assert kb.dense_search("owls", k=1)[0].metadata["source"].endswith("owls.md")
        assert kb.stats().location == chroma_server

    assert server_collections(chroma_server)[vectors_name("served")] == summary.chunks_added
    assert not (home / "kbs" / "served" / "chroma").exists()  # nothing embedded locally

    # Changes sync to the server too.
    (folder / "owls.md").unlink()
    with KnowledgeBase.open(home, "served", chroma_url=chroma_server) as kb:
        removed = sync(kb, folder)
        assert removed.files_removed == 1
        kb_state(kb).assert_consistent()
        remaining = kb.vector_count()
    assert server_collections(chroma_server)[vectors_name("served")] == remaining

    remove_kb(home, "served", chroma_server)
    assert vectors_name("served") not in server_collections(chroma_server)


def test_embedded_and_server_bases_do_not_mix(chroma_server: str, home: Path, tmp_path: Path, minilm) -> None:
    folder = write_files(tmp_path / "notes", {"a.md": english("lanterns")})
    with KnowledgeBase.open(home, "local", embedder="minilm") as kb:
        sync(kb, folder)
    assert vectors_name("local") not in server_collections(chroma_server)
    assert (home / "kbs" / "local" / "chroma").is_dir()
