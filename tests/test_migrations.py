"""Named migrations recorded in the database: new files, files from the numbered-schema code,
files from a newer version (refused), and the runner's own guarantees."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from vectorstore import FileRecord, StoredChunk
from vectorstore.errors import DatabaseNewerError
from vectorstore.lexical import LexicalIndex, migrations
from vectorstore.migrations import Migrations, run_script

from legacy_index import numbered_index


def recorded(path: Path) -> dict[str, float]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT name, applied_at FROM _migrations"))
    finally:
        db.close()


def test_a_new_index_records_every_migration_by_name(tmp_path: Path) -> None:
    LexicalIndex(tmp_path / "kb.sqlite").close()
    done = recorded(tmp_path / "kb.sqlite")
    assert list(done) == migrations.names
    assert migrations.names[:3] == ["m001_initial", "m002_chunks_embedded_flag", "m003_skipped_entries"]
    assert all(applied > 0 for applied in done.values())
    # The code from before named migrations counts versions: it sees the schema it knows.
    db = sqlite3.connect(tmp_path / "kb.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()


def test_an_index_from_the_numbered_schema_code_opens_and_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite"
    db = numbered_index(path, version=2)
    db.execute("INSERT INTO meta VALUES ('embedder', 'e5:x')")
    db.execute("INSERT INTO meta VALUES ('tokenizer', '2')")
    db.execute("INSERT INTO files VALUES ('/notes/a.md', 'h1', 10, 5, 'A', 'markdown', '[\"c1\"]', 1.0)")
    db.execute(
        "INSERT INTO chunks (id, path, text, metadata, embed_hash, embedded) "
        "VALUES ('c1', '/notes/a.md', 'otters hold hands', '{}', 'e1', 0)"
    )
    db.execute("INSERT INTO chunks_fts (rowid, tokens) VALUES (1, 'otters hold hands')")
    db.close()

    index = LexicalIndex(path)
    try:
        assert index.get_meta("embedder") == "e5:x"
        assert index.files()["/notes/a.md"].chunk_ids == ("c1",)
        assert [h.id for h in index.search("otters")] == ["c1"]
        assert index.pending_ids() == {"c1"}
        assert index.db.execute("SELECT count(*) FROM skipped").fetchone()[0] == 0
    finally:
        index.close()
    done = recorded(path)
    # What the numbered code had done is adopted (time 0: it ran before names were recorded);
    # what it lacked ran now.
    assert done["m001_initial"] == done["m002_chunks_embedded_flag"] == 0.0
    assert done["m003_skipped_entries"] > 0
    LexicalIndex(path).close()  # and opening again changes nothing
    assert recorded(path) == done


def test_an_index_at_the_first_numbered_version_gets_the_embedded_flag(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite"
    db = numbered_index(path, version=1)
    db.execute(
        "INSERT INTO chunks (id, path, text, metadata, embed_hash) VALUES ('c1', '/a', 't', '{}', 'h')"
    )
    db.close()
    index = LexicalIndex(path)
    try:
        assert index.embedded_count() == 1
    finally:
        index.close()
    assert recorded(path)["m001_initial"] == 0.0 and recorded(path)["m002_chunks_embedded_flag"] > 0


def test_an_index_from_a_newer_version_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "kbs" / "notes" / "kb.sqlite"
    index = LexicalIndex(path)
    index.replace_file(FileRecord("/a", "h", 1, 1, "A", "text", ("c1",)), [StoredChunk("c1", "t", {})], 0.0)
    index.db.execute("INSERT INTO _migrations VALUES ('m009_sources_table', 1.0)")
    index.close()

    with pytest.raises(DatabaseNewerError) as refused:
        LexicalIndex(path)
    message = str(refused.value)
    assert str(path) in message and "'m009_sources_table'" in message and "upgrade" in message
    db = sqlite3.connect(path)  # nothing was changed or lost
    assert db.execute("SELECT count(*) FROM chunks").fetchone()[0] == 1
    db.close()


def test_a_numbered_index_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite"
    db = numbered_index(path, version=2)
    db.execute("PRAGMA user_version = 5")
    db.close()
    with pytest.raises(DatabaseNewerError, match="schema version 5"):
        LexicalIndex(path)


def notes_migrations(log: list[str]) -> Migrations:
    """A conversation-store-like kind of database with two numbered versions and a named one."""
    notes = Migrations("notes store")

    @notes(legacy_version=1)
    def m001_notes(db: sqlite3.Connection) -> None:
        log.append("m001")
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")

    @notes(legacy_version=2)
    def m002_note_titles(db: sqlite3.Connection) -> None:
        log.append("m002")
        db.execute("ALTER TABLE notes ADD COLUMN title TEXT NOT NULL DEFAULT ''")

    @notes
    def m003_tags(db: sqlite3.Connection) -> None:
        log.append("m003")
        run_script(
            db,
            """
            CREATE TABLE tags (note INTEGER NOT NULL, tag TEXT NOT NULL);
            CREATE TRIGGER notes_gone AFTER DELETE ON notes BEGIN
                DELETE FROM tags WHERE note = old.id;
            END;
            """,
        )

    return notes


def test_the_runner_serves_another_kind_of_database_with_its_numbered_past(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        "BEGIN; CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL); "
        "PRAGMA user_version = 1; COMMIT;"
    )
    db.execute("INSERT INTO notes (text) VALUES ('kept')")
    log: list[str] = []
    assert notes_migrations(log).apply(db, str(path)) == ["m002_note_titles", "m003_tags"]
    assert log == ["m002", "m003"]
    db.execute("INSERT INTO tags VALUES (1, 'x')")
    db.execute("DELETE FROM notes")  # the trigger that run_script created works
    assert db.execute("SELECT count(*) FROM tags").fetchone()[0] == 0
    assert notes_migrations(log).apply(db, str(path)) == []
    db.close()


def test_a_failing_migration_leaves_no_trace_and_runs_again_next_time(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "x.sqlite", isolation_level=None)
    failing = Migrations("test database")

    @failing
    def m001_half_done(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE a (x)")
        raise OSError("disk full")

    with pytest.raises(OSError):
        failing.apply(db, "x.sqlite")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "a" not in tables
    assert db.execute("SELECT count(*) FROM _migrations").fetchone()[0] == 0
    with pytest.raises(ValueError, match="two migrations named m001_half_done"):
        failing(m001_half_done)
    db.close()


def test_two_processes_opening_a_new_database_at_once_run_each_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "race.sqlite"
    runs: list[str] = []
    racing = Migrations("test database")

    @racing
    def m001_slow(db: sqlite3.Connection) -> None:
        runs.append("m001")
        time.sleep(0.2)  # the other opener arrives while this one is inside its transaction
        db.execute("CREATE TABLE t (x)")

    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def open_it() -> None:
        db = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
        try:
            start.wait(timeout=10)
            racing.apply(db, str(path))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and runs == ["m001"]
