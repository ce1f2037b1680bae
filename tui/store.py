"""Conversations persisted in SQLite under the home folder, with numbered schema migrations."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIGRATIONS = [
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
]


@dataclass
class Exchange:
    """One question and its answer, as shown in the transcript."""

    question: str
    answer: str = ""
    reasoning: str = ""
    web: bool = False
    sources: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    citations: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    id: int | None = None


@dataclass
class Conversation:
    id: int
    title: str
    model: str
    kb: str
    created: float
    updated: float


class ConversationStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA journal_mode = WAL")
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self.db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    def close(self) -> None:
        self.db.close()

    def create(self, title: str, model: str = "", kb: str = "") -> Conversation:
        now = time.time()
        cur = self.db.execute(
            "INSERT INTO conversations (title, model, kb, created, updated) VALUES (?, ?, ?, ?, ?)",
            (title, model, kb, now, now),
        )
        return Conversation(cur.lastrowid, title, model, kb, now, now)

    def conversations(self) -> list[Conversation]:
        rows = self.db.execute(
            "SELECT id, title, model, kb, created, updated FROM conversations ORDER BY updated DESC"
        )
        return [Conversation(*row) for row in rows]

    def get(self, conversation_id: int) -> Conversation | None:
        row = self.db.execute(
            "SELECT id, title, model, kb, created, updated FROM conversations WHERE id = ?",
            (conversation_id,),
        ).fetchone()
        return Conversation(*row) if row else None

    def rename(self, conversation_id: int, title: str) -> None:
        self.db.execute(
            "UPDATE conversations SET title = ? WHERE id = ?", (title.strip() or "Untitled", conversation_id)
        )

    def delete(self, conversation_id: int) -> None:
        self.db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def add(self, conversation_id: int, exchange: Exchange) -> int:
        now = time.time()
        cur = self.db.execute(
            """INSERT INTO messages (conversation_id, question, answer, reasoning, web, sources, stats,
               citations, model, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                conversation_id,
                exchange.question,
                exchange.answer,
                exchange.reasoning,
                int(exchange.web),
                json.dumps(exchange.sources, ensure_ascii=False),
                json.dumps(exchange.stats),
                json.dumps(exchange.citations, ensure_ascii=False),
                exchange.model,
                now,
            ),
        )
        self.db.execute(
            "UPDATE conversations SET updated = ?, model = ? WHERE id = ?",
            (now, exchange.model, conversation_id),
        )
        return cur.lastrowid

    def exchanges(self, conversation_id: int) -> list[Exchange]:
        rows = self.db.execute(
            """SELECT id, question, answer, reasoning, web, sources, stats, citations, model
               FROM messages WHERE conversation_id = ? ORDER BY id""",
            (conversation_id,),
        )
        return [
            Exchange(q, a, r, bool(w), json.loads(s), json.loads(st), json.loads(c), m, i)
            for i, q, a, r, w, s, st, c, m in rows
        ]

    def export_markdown(self, conversation_id: int) -> str:
        conversation = self.get(conversation_id)
        if conversation is None:
            raise KeyError(conversation_id)
        lines = [f"# {conversation.title}", ""]
        for ex in self.exchanges(conversation_id):
            lines += [f"## {ex.question}", ""]
            if ex.web:
                lines += ["*(web search on)*", ""]
            lines += [ex.answer or "*(no answer)*", ""]
            if ex.sources:
                lines.append("**Sources**")
                lines.append("")
                lines += [f"- [{s.get('label')}] {s.get('title')} — {s.get('location')}" for s in ex.sources]
                lines.append("")
        return "\n".join(lines)
