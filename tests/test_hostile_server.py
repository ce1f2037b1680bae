"""A shared base treats its server's contents as untrusted input: malformed entries, an absurd
head and a cache ahead of its server, written straight to a real `chroma run` by a plain Chroma
client, cost what is bad and never the base, nor unbounded work."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import vectorstore.embedder_choice as embedder_choice
from assistant.cli import app
from ingest import sync
from vectorstore import FileRecord, KnowledgeBase, SharedBaseError, StoredChunk
from vectorstore.errors import DatabaseNewerError
from vectorstore.storage.shared.record import Record

from corpus import english, write_files
from fakes_chroma import chunk_meta, file_meta, head_of, plain_client, record_of, set_head, stamp
from kb_state import kb_state

pytestmark = pytest.mark.slow

NOTES = {"ducks.md": english("ducks"), "owls.md": english("owls"), "bees.txt": english("bees")}


@pytest.fixture
def machines(tmp_path: Path, chroma_server: str, minilm) -> Iterator[Callable[..., KnowledgeBase]]:
    """`open_at("a" or "b", name)`: base `name` on the server, opened from home A or B."""
    opened: list[KnowledgeBase] = []

    def open_at(machine: str, name: str, **kwargs) -> KnowledgeBase:
        kwargs.setdefault("embedder", "minilm")
        kb = KnowledgeBase.open(tmp_path / f"home-{machine}", name, chroma_url=chroma_server, **kwargs)
        opened.append(kb)
        return kb

    yield open_at
    for kb in opened:
        kb.close()


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every request a Record makes to its collection."""
    made: list[str] = []
    call = Record._call

    def counted(self, fn, **kwargs):
        made.append(getattr(fn, "__name__", "?"))
        return call(self, fn, **kwargs)

    monkeypatch.setattr(Record, "_call", counted)
    return made


def built(machines, tmp_path: Path, name: str) -> tuple[KnowledgeBase, set[str]]:
    """Base `name` built by machine A from three notes; returns it and its chunk ids."""
    a = machines("a", name)
    sync(a, write_files(tmp_path / "notes", NOTES))
    return a, {i for r in a.files().values() for i in r.chunk_ids}


def test_malformed_entries_cost_those_entries_never_the_base(
    machines, tmp_path: Path, chroma_server: str
) -> None:
    a, good_ids = built(machines, tmp_path, "hostile1")
    ducks_ids = json.loads(json.dumps(list(a.files()["notes/ducks.md"].chunk_ids)))
    huge = "quack " * 1_000_000  # 6 MB, "not embedded": a writer would embed it for minutes
    stamp(
        record_of(chroma_server, "hostile1"),
        [
            chunk_meta("nohash:1", "notes/nohash.md", "no hash here"),
            file_meta("notes/nohash.md", ["nohash:1"], content_hash=None),
            file_meta("notes/ints.md", "[1, 2]"),
            file_meta("notes/notjson.md", "oops"),
            chunk_meta("size:1", "notes/size.md", "sized"),
            file_meta("notes/size.md", ["size:1"], size="big"),
            chunk_meta("time:1", "notes/time.md", "timed"),
            file_meta("notes/time.md", ["time:1"], ingested_at="yesterday"),
            chunk_meta("meta:1", "notes/meta.md", "meta", meta="[1, 2]"),
            file_meta("notes/meta.md", ["meta:1"]),
            file_meta("notes/thief.md", ducks_ids),
            chunk_meta("huge:1", "notes/huge.md", huge, embedded=False),
            file_meta("notes/huge.md", ["huge:1"]),
            chunk_meta("orphan:1", "notes/orphan.md", huge, embedded=False),
        ],
    )

    # Another machine opens it: the good files, searchable; each bad entry named.
    b = machines("b", "hostile1", embedder=None, create=False)
    stats = b.stats()
    assert set(b.files()) == set(a.files()) and stats.documents == 3
    assert b.index.chunk_ids() == good_ids and b.pending_count() == 0
    named = {what for what, _ in stats.problems}
    bad = {"nohash", "ints", "notjson", "size", "time", "meta", "thief", "huge", "orphan"}
    assert {f"notes/{n}.md" for n in bad} <= named, stats.problems
    reasons = " ".join(why for _, why in stats.problems)
    for complaint in (
        "content_hash",
        "chunk_ids",
        "size",
        "ingested_at",
        "JSON object",
        "another file",
        "more than a chunk",
    ):
        assert complaint in reasons, complaint
    assert b.lexical_search("ducks habits", 3)[0].metadata["source"] == "notes/ducks.md"
    assert b.dense_search("owls habits", 1)[0].metadata["source"] == "notes/owls.md"
    kb_state(b).assert_consistent()

    # The CLI names them too, and goes on.
    env = {"ASSISTANT_HOME": str(tmp_path / "home-b"), "ASSISTANT_CHROMA_URL": chroma_server}
    shown = CliRunner().invoke(app, ["kb", "stats", "--kb", "hostile1"], env=env)
    assert shown.exit_code == 0 and "notes/thief.md" in shown.stderr and "another file" in shown.stderr
    as_json = CliRunner().invoke(app, ["kb", "stats", "--kb", "hostile1", "--json"], env=env)
    assert json.loads(as_json.stdout)["skipped_entries"] >= len(bad)

    # A writer on either machine embeds only what is good, and keeps the base whole.
    a.refresh()
    summary = sync(a, write_files(tmp_path / "more", {"swans.md": english("swans")}))
    assert summary.files_added == 1 and summary.chunks_embedded == summary.chunks_added
    assert any(w.path == "notes/thief.md" for w in summary.warnings)
    assert not a.collection.get(ids=["huge:1", "orphan:1"], include=[])["ids"]
    b.refresh()
    assert b.stats().documents == 4
    kb_state(b).assert_consistent()

    # The owner of a bad file's name ingests it for real: the good entry replaces the bad one.
    fixed = sync(b, write_files(tmp_path / "b" / "notes", {"size.md": english("sizes")}), source="notes")
    assert fixed.files_added == 1
    assert "notes/size.md" not in {what for what, _ in b.stats().problems}


def test_an_absurd_head_costs_a_few_requests_and_a_cache_ahead_is_rebuilt(
    machines, tmp_path: Path, chroma_server: str, requests: list[str]
) -> None:
    a, _ = built(machines, tmp_path, "hostile2")
    record = record_of(chroma_server, "hostile2")
    set_head(record, 10**15)  # the entries end near 40

    requests.clear()
    b = machines("b", "hostile2", embedder=None, create=False)
    assert b.stats().documents == 3
    assert len(requests) < 150, f"{len(requests)} requests to catch up with an absurd head"

    # Writers carry on from it; readers follow with bounded work again.
    summary = sync(a, write_files(tmp_path / "more", {"swans.md": english("swans")}))
    assert summary.files_added == 1 and head_of(record) > 10**15
    requests.clear()
    assert b.refresh() == 1 and b.stats().documents == 4
    assert len(requests) < 150

    # A head no writer could have stamped: readers read up to the newest entry and say so (a
    # machine new to the base too); the next writer repairs it.
    set_head(record, 2**62)
    b._refreshed = 0.0
    assert b.stats().documents == 4
    assert any("head is malformed" in why for _, why in b.stats().problems)
    assert machines("c", "hostile2", embedder=None, create=False).stats().documents == 4
    set_head(record, "soon")
    assert machines("d", "hostile2", embedder=None, create=False).stats().documents == 4
    sync(a, write_files(tmp_path / "herons", {"herons.md": english("herons")}))
    assert head_of(record) < 2**53
    b._refreshed = 0.0
    assert b.stats().documents == 5 and not b.stats().problems

    # A cache ahead of its server (the server restored from an older copy) is built again.
    b.index.replace_file(
        FileRecord("notes/gone.md", "h", 1, 1, "gone", "text", ("gone:1",)),
        [StoredChunk("gone:1", "stale passage about moles", {"source": "notes/gone.md"})],
        0.0,
    )
    b.index.set_meta("server_seq", str(head_of(record) + 1000))
    b.refresh()
    assert set(b.files()) == set(a.files()) and not b.lexical_search("moles", 3)
    kb_state(b).assert_consistent()


def test_a_server_named_embedder_is_never_loaded(
    machines, tmp_path: Path, chroma_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    built(machines, tmp_path, "hostile3")
    record = plain_client(chroma_server).get_collection("kb.hostile3.record")
    settings = dict(record.metadata)
    loaded: list[str] = []
    monkeypatch.setattr(embedder_choice, "make_embedder", lambda spec, **kw: loaded.append(spec))
    for spec in ("st:someone/evil-model", str(tmp_path)):
        record.modify(metadata={**settings, "embedder_spec": spec})
        with pytest.raises(SharedBaseError, match="never loaded") as refused:
            machines("b", "hostile3", embedder=None, create=False)
        assert spec in str(refused.value)
    # The user may choose it: then it is the user's name, not the server's.
    chosen = machines("b", "hostile3", embedder=str(tmp_path), create=False)
    assert chosen.embedder_id == settings["embedder"] and loaded == []

    # A record of a format this version does not know is refused, not guessed at.
    record.modify(metadata={**settings, "format": "3"})
    with pytest.raises(DatabaseNewerError, match="record format 3"):
        machines("c", "hostile3", embedder=None, create=False)
