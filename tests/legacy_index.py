"""Knowledge-base index files as the code before named migrations wrote them (numbered schema
scripts counted in PRAGMA user_version), for the tests that open them with today's code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

#: The schema scripts of that code, in order: user_version N means the first N were run.
NUMBERED_SCHEMA = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE files (
        path TEXT PRIMARY KEY,
        content_hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        title TEXT NOT NULL,
        kind TEXT NOT NULL,
        chunk_ids TEXT NOT NULL,
        ingested_at REAL NOT NULL
    );
    CREATE TABLE chunks (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        text TEXT NOT NULL,
        metadata TEXT NOT NULL,
        embed_hash TEXT NOT NULL
    );
    CREATE INDEX chunks_path ON chunks(path);
    CREATE INDEX chunks_embed_hash ON chunks(embed_hash);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        tokens, tokenize = 'porter unicode61 remove_diacritics 2'
    );
    """,
    """
    ALTER TABLE chunks ADD COLUMN embedded INTEGER NOT NULL DEFAULT 1;
    CREATE INDEX chunks_pending ON chunks(embedded) WHERE embedded = 0;
    """,
]


def numbered_index(path: Path, version: int) -> sqlite3.Connection:
    """A new index file at schema `version` as that code made it; the caller closes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(NUMBERED_SCHEMA[:version], start=1):
        db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    return db
