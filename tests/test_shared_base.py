"""A base on a Chroma server is whole there: two home folders (two machines) against one real
`chroma run` on loopback build, search, re-sync and remove one base, and never lose each other's
files."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import vectorstore.server as server
from assistant.cli import app
from assistant.cli.commands import kb as kb_command
from assistant.session import Session
from assistant.settings import load_settings
from ingest import sync
from vectorstore import KnowledgeBase, KnowledgeBaseBusyError, KnowledgeBaseError, list_kbs, remove_kb
from vectorstore.server import LeaseLostError, holder_name

from corpus import english, write_files
from ingest_process import IngestProcess, added, generated_folder
from kb_state import kb_state

pytestmark = pytest.mark.slow

NOTES = {"ducks.md": english("ducks"), "owls.md": english("owls"), "sub/bees.txt": english("bees", 30)}


@pytest.fixture
def machines(tmp_path: Path, chroma_server: str, minilm) -> Iterator[Callable[..., KnowledgeBase]]:
    """`open_at("a" or "b", name)`: the base `name` on the server, opened from home A or B."""
    opened: list[KnowledgeBase] = []

    def open_at(machine: str, name: str, **kwargs) -> KnowledgeBase:
        kwargs.setdefault("embedder", "minilm")
        kb = KnowledgeBase.open(tmp_path / f"home-{machine}", name, chroma_url=chroma_server, **kwargs)
        opened.append(kb)
        return kb

    yield open_at
    for kb in opened:
        kb.close()


def same_folder_mounted_twice(tmp_path: Path) -> tuple[Path, Path]:
    """One shared folder as machine A and machine B see it: same name, different mount points."""
    a = write_files(tmp_path / "mnt-a" / "share" / "notes", NOTES)
    b = tmp_path / "Volumes" / "notes"
    shutil.copytree(a, b)  # new modification times, as a second machine's mount may show
    return a, b


def ids(hits) -> list[str]:
    return [h.id for h in hits]


def test_a_base_built_on_one_machine_is_used_and_resynced_by_another(
    machines, tmp_path: Path, chroma_server: str
) -> None:
    folder_a, folder_b = same_folder_mounted_twice(tmp_path)
    a = machines("a", "team1")
    built = sync(a, folder_a)
    assert built.files_added == 3
    # The writer's cache took each write as it went: nothing to fetch back.
    assert a.record.changes(int(a.index.get_meta("server_seq"))).files == {}

    # B sees the base, its settings and its content without ever having ingested anything.
    assert "team1" in list_kbs(tmp_path / "home-b", chroma_url=chroma_server)
    b = machines("b", "team1", embedder=None, create=False)
    assert b.embedder_id == a.embedder_id
    sa, sb = a.stats(), b.stats()
    assert (
        (sb.documents, sb.chunks, sb.embedded_chunks)
        == (sa.documents, sa.chunks, sa.embedded_chunks)
        == (
            3,
            built.chunks_added,
            built.chunks_added,
        )
    )
    assert set(b.files()) == {"notes/ducks.md", "notes/owls.md", "notes/sub/bees.txt"}
    for query in ("ducks habits", "owls", "number 7 bees"):
        assert ids(b.lexical_search(query, 8)) == ids(a.lexical_search(query, 8))
        assert ids(b.dense_search(query, 8)) == ids(a.dense_search(query, 8))
    kb_state(b).assert_consistent()

    # The same hybrid ranking, through the whole retrieval stack, on both machines.
    def ranked(home: Path, query: str) -> list[tuple[str, str]]:
        env = {"ASSISTANT_HOME": str(home), "ASSISTANT_CHROMA_URL": chroma_server}
        session = Session(load_settings(environ=env))
        try:
            return [(s.location, s.text) for s in session.search(query, kb="team1", k=5).sources]
        finally:
            session.close()

    for query in ("which habits do owls have?", "bees sentence 20"):
        assert ranked(tmp_path / "home-a", query) == ranked(tmp_path / "home-b", query)

    # B's copy of the folder is the same files: nothing is added twice.
    again = sync(b, folder_b)
    assert (again.files_unchanged, again.files_added, again.chunks_added) == (3, 0, 0)
    assert b.stats().chunks == built.chunks_added

    # B edits one file and adds another; A catches up by fetching only what changed.
    seen_by_a = int(a.index.get_meta("server_seq"))
    (folder_b / "owls.md").write_text(english("owls", 4) + "\nOwls nest in the old copper barn.\n")
    write_files(folder_b, {"herons.md": english("herons")})
    changed = sync(b, folder_b)
    assert (changed.files_updated, changed.files_added) == (1, 1)
    changes = a.record.changes(seen_by_a)
    assert set(changes.files) == {"notes/owls.md", "notes/herons.md"}
    assert a.refresh() == 2
    assert a.stats().documents == 4
    assert "copper barn" in a.lexical_search("copper barn", 1)[0].text
    kb_state(a).assert_consistent()
    assert ids(a.lexical_search("herons", 5)) == ids(b.lexical_search("herons", 5))

    # The cache is only a cache: removed, it is built again from the server, equal.
    b.close()
    shutil.rmtree(b.folder)
    rebuilt = machines("b", "team1", embedder=None, create=False)
    assert rebuilt.stats().chunks == a.stats().chunks
    assert rebuilt.files().keys() == a.files().keys()
    assert ids(rebuilt.lexical_search("copper barn owls", 8)) == ids(a.lexical_search("copper barn owls", 8))


def test_writers_on_two_machines_exclude_each_other(machines, tmp_path: Path, chroma_server: str) -> None:
    a = machines("a", "team2")
    b = machines("b", "team2")
    notes_a = write_files(tmp_path / "a" / "field-notes", {"ducks.md": english("ducks")})
    notes_b = write_files(
        tmp_path / "b" / "lab-notes", {"owls.md": english("owls"), "bees.md": english("bee")}
    )

    a.begin_write()
    with pytest.raises(KnowledgeBaseBusyError) as busy:
        sync(b, notes_b)
    assert holder_name() in str(busy.value) and "since" in str(busy.value)
    a.end_write()

    sync(b, notes_b)
    sync(a, notes_a)
    # One base: both machines count every file, and each one's search finds the other's.
    for kb in (a, b):
        kb.refresh()
        assert kb.stats().documents == 3
        assert set(kb.files()) == {"field-notes/ducks.md", "lab-notes/owls.md", "lab-notes/bees.md"}
        kb_state(kb).assert_consistent()
    assert a.dense_search("owls habits", 1)[0].metadata["source"] == "lab-notes/owls.md"
    assert b.dense_search("ducks habits", 1)[0].metadata["source"] == "field-notes/ducks.md"
    # Re-syncing one folder never touches the other's files.
    (notes_a / "ducks.md").unlink()
    write_files(notes_a, {"swans.md": english("swans")})
    summary = sync(a, notes_a)
    assert (summary.files_removed, summary.files_added) == (1, 1)
    assert set(b.files()) | {"lab-notes/owls.md"} == set(b.files())


def test_of_many_writers_starting_at_once_exactly_one_gets_the_lease(machines, chroma_server: str) -> None:
    kb = machines("a", "team3")
    client = kb.record.client
    outcomes: list[object] = []
    start = threading.Barrier(6)

    def contend() -> None:
        start.wait(timeout=30)
        try:
            outcomes.append(server.Lease.acquire(client, "team3", chroma_server))
        except KnowledgeBaseBusyError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    leases = [o for o in outcomes if isinstance(o, server.Lease)]
    assert len(outcomes) == 6 and len(leases) == 1
    leases[0].release()
    # Released: the next writer gets it at once.
    server.Lease.acquire(client, "team3", chroma_server).release()


def test_a_writer_that_lost_its_lease_stops(machines, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(server, "LEASE_SECONDS", 1.0)
    monkeypatch.setattr(server, "_CHECK_EVERY", 0.0)
    a = machines("a", "team4")
    b = machines("b", "team4")
    a.begin_write()
    a._lease.stop()  # as if this machine went to sleep: no more renewals
    time.sleep(1.3)
    b.begin_write()  # the expired lease is taken over
    b.end_write()
    folder = write_files(tmp_path / "late", {"ducks.md": english("ducks")})
    with pytest.raises(LeaseLostError, match="lost the write lease"):
        sync_with_lease_held(a, folder)
    assert b.stats().documents == 0


def sync_with_lease_held(kb: KnowledgeBase, folder: Path) -> None:
    """What a writer does after begin_write: commit a file (here without taking the lease again)."""
    from ingest.sync import file_keys

    key, _ = file_keys(folder, shared=True)
    path = folder / "ducks.md"
    record = server.FileRecord(key(path), "h", 1, 1, "ducks", "markdown", ("x:1",))
    kb.commit_file(record, [server.StoredChunk("x:1", "ducks", {"source": key(path)}, "e")], embedded=())


def ingest_with_short_lease(home: Path, folder: Path, url: str) -> IngestProcess:
    """`assistant ingest` in a process whose lease expires 2 s after its last renewal."""
    code = (
        "import sys; import vectorstore.server as s; s.LEASE_SECONDS = 2.0\n"
        "from assistant.cli import main; main()"
    )
    return IngestProcess(
        home,
        folder,
        env={"ASSISTANT_CHROMA_URL": url},
        command=[sys.executable, "-c", code],
        args=("--kb", "team5"),
    )


def test_a_killed_writer_never_costs_another_machine_its_files(
    machines, tmp_path: Path, chroma_server: str
) -> None:
    b = machines("b", "team5")
    lab = write_files(tmp_path / "b" / "lab-notes", {"owls.md": english("owls"), "bees.md": english("bees")})
    theirs = sync(b, lab)
    b_chunks = {i for r in b.files().values() for i in r.chunk_ids}
    assert theirs.chunks_embedded == len(b_chunks)

    # A's ingest is killed mid-way, holding the lease and with half its files written.
    folder_a = generated_folder(tmp_path / "a" / "docs", files=30)
    run = ingest_with_short_lease(tmp_path / "home-a", folder_a, chroma_server)
    assert run.wait_for(lambda lines: added(lines) >= 2)
    run.kill()

    # A runs again once the dead writer's lease expired: recovery works from the server's record.
    a = machines("a", "team5")
    deadline = time.monotonic() + 30
    while True:
        try:
            summary = sync(a, folder_a)
            break
        except KnowledgeBaseBusyError:
            assert time.monotonic() < deadline, "the killed writer's lease never expired"
            time.sleep(0.5)
    assert summary.files_failed == [] and a.stats().documents == 32
    stored = set(b.collection.get(ids=sorted(b_chunks), include=[])["ids"])
    assert stored == b_chunks, "recovery deleted another machine's vectors"
    b.refresh()
    kb_state(b).assert_consistent()

    # Vectors lost on the server (a restored backup): the unchanged files are embedded again.
    b.collection.delete(ids=sorted(b_chunks))
    resync = sync(b, lab)
    assert resync.files_unchanged == 2 and resync.chunks_embedded == len(b_chunks)
    assert b.dense_search("owls habits", 1)[0].metadata["source"] == "lab-notes/owls.md"
    kb_state(b).assert_consistent()


def test_removing_a_shared_base_removes_it_for_every_machine(
    machines, tmp_path: Path, chroma_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_files(tmp_path / "notes", NOTES)
    a = machines("a", "team6")
    first = sync(a, folder)
    a.close()
    stale = machines("a", "team6", embedder=None)  # A has the base open (the chat app) meanwhile

    env = {"ASSISTANT_HOME": str(tmp_path / "home-b"), "ASSISTANT_CHROMA_URL": chroma_server}
    refused = CliRunner().invoke(app, ["kb", "remove", "team6"], env=env)  # not a terminal, no --yes
    assert refused.exit_code != 0 and "pass --yes" in refused.stderr
    monkeypatch.setattr(kb_command, "_can_ask", lambda: True)  # someone at a terminal answers
    wrong = CliRunner().invoke(app, ["kb", "remove", "team6"], env=env, input="team\n")
    assert wrong.exit_code != 0 and "every machine" in wrong.stderr and "nothing was deleted" in wrong.stderr
    assert "team6" in list_kbs(tmp_path / "home-b", chroma_url=chroma_server)
    removed = CliRunner().invoke(app, ["kb", "remove", "team6"], env=env, input="team6\n")
    assert removed.exit_code == 0, removed.output
    assert "for every machine" in removed.stderr

    # A, which built it, no longer sees it, and ingesting builds it anew instead of "unchanged".
    with pytest.raises(KnowledgeBaseError, match="no longer on the Chroma server"):
        stale.dense_search("ducks")
    assert "team6" not in list_kbs(tmp_path / "home-a", chroma_url=chroma_server)
    with pytest.raises(KnowledgeBaseError, match="no knowledge base named 'team6'"):
        KnowledgeBase.open(tmp_path / "home-a", "team6", chroma_url=chroma_server, create=False)
    again = machines("a", "team6")
    assert again.stats().documents == 0
    rebuilt = sync(again, folder)
    assert (rebuilt.files_added, rebuilt.files_unchanged) == (3, 0)
    assert rebuilt.chunks_added == first.chunks_added
    kb_state(again).assert_consistent()
    with pytest.raises(KnowledgeBaseError, match="no knowledge base named 'nope'"):
        remove_kb(tmp_path / "home-a", "nope", chroma_server)


def test_an_ingest_from_another_machine_waits_for_the_running_one(
    machines, tmp_path: Path, chroma_server: str
) -> None:
    env = {"ASSISTANT_CHROMA_URL": chroma_server}
    folder_a = generated_folder(tmp_path / "a" / "docs", files=30)
    folder_b = write_files(tmp_path / "b" / "lab-notes", {"owls.md": english("owls")})
    first = IngestProcess(tmp_path / "home-a", folder_a, env=env, args=("--kb", "team7"))
    assert first.wait_for(lambda lines: added(lines) >= 1)
    second = IngestProcess(tmp_path / "home-b", folder_b, env=env, args=("--kb", "team7"))
    assert second.finish() == 1
    second.wait_for(lambda lines: False)
    refusal = " ".join(second.seen)
    assert "is being written by" in refusal and f"(pid {first.proc.pid})" in refusal, refusal
    assert first.finish() == 0
    again = IngestProcess(tmp_path / "home-b", folder_b, env=env, args=("--kb", "team7"))
    assert again.finish() == 0
    kb = machines("b", "team7", embedder=None, create=False)
    assert kb.stats().documents == 31
    kb_state(kb).assert_consistent()


def test_a_base_from_before_shared_bases_says_how_to_share_it(tmp_path: Path, chroma_server: str) -> None:
    from vectorstore.lexical import LexicalIndex

    home = tmp_path / "home-old"
    LexicalIndex(home / "kbs" / "old" / "kb.sqlite").close()  # manifest here, vectors on the server
    with pytest.raises(KnowledgeBaseError, match="ingest its folder again") as error:
        KnowledgeBase.open(home, "old", chroma_url=chroma_server, create=False)
    assert "assistant ingest FOLDER --kb old" in str(error.value)
