"""Conversation-store files as the code before named migrations wrote them (numbered schema
scripts counted in PRAGMA user_version), for the tests that open them with today's code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

#: The schema scripts of that code, verbatim and in order: user_version N means the first N ran.
NUMBERED_SCHEMA = [
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        model TEXT NOT NULL DEFAULT '',
        kb TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        updated REAL NOT NULL
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        reasoning TEXT NOT NULL DEFAULT '',
        web INTEGER NOT NULL DEFAULT 0,
        sources TEXT NOT NULL DEFAULT '[]',
        stats TEXT NOT NULL DEFAULT '{}',
        citations TEXT NOT NULL DEFAULT '{}',
        model TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL
    );
    CREATE INDEX messages_conversation ON messages(conversation_id);
    """,
    # 2: each exchange is one JSON document (Exchange.to_dict, with its schema version); rows of
    # version 1 are converted in place.
    """
    ALTER TABLE messages ADD COLUMN data TEXT NOT NULL DEFAULT '';
    UPDATE messages SET data = json_object(
        'schema', 1, 'question', question, 'answer', answer, 'reasoning', reasoning,
        'web', json(CASE web WHEN 0 THEN 'false' ELSE 'true' END), 'sources', json(sources),
        'stats', json(stats), 'citations', json(citations), 'model', model
    );
    """,
    # 3: the questions typed at the prompt, newest last, for Up/Down across launches.
    """
    CREATE TABLE prompts (id INTEGER PRIMARY KEY, text TEXT NOT NULL, created REAL NOT NULL);
    """,
]


def numbered_store(path: Path, version: int) -> sqlite3.Connection:
    """A new store file at schema `version` as that code made it (its connection set up the same
    way); the caller fills and closes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA journal_mode = WAL")
    for number, script in enumerate(NUMBERED_SCHEMA[:version], start=1):
        db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    return db
