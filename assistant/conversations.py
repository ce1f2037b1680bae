"""Conversations persisted in SQLite under the home folder, with named schema migrations.

Below the front-ends: `Session` owns the store (list, open, save, rename, delete, export), so the
chat app and the CLI share one history. The file also keeps the questions typed at the prompt, so
that Up recalls them across launches.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from vectorstore.migrations import Migrations, run_script

from .chat.events import AnswerStats, CitationReport, Final
from .chat.presentation import close_code_block
from .retrieval.sources import Source

#: The store's schema, one named migration per change (vectorstore.migrations). The first three
#: were numbered (PRAGMA user_version 1-3) before migrations had names; files from that code are
#: adopted as they are.
migrations = Migrations("conversation store")


@migrations(legacy_version=1)
def m001_conversations_and_messages(db: sqlite3.Connection) -> None:
    run_script(
        db,
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
    )


@migrations(legacy_version=2)
def m002_exchange_as_json(db: sqlite3.Connection) -> None:
    """Each exchange becomes one JSON document (Exchange.to_dict, with its schema version); the
    rows of the first release are converted in place (as schema 1)."""
    run_script(
        db,
        """
        ALTER TABLE messages ADD COLUMN data TEXT NOT NULL DEFAULT '';
        UPDATE messages SET data = json_object(
            'schema', 1, 'question', question, 'answer', answer, 'reasoning', reasoning,
            'web', json(CASE web WHEN 0 THEN 'false' ELSE 'true' END), 'sources', json(sources),
            'stats', json(stats), 'citations', json(citations), 'model', model
        );
        """,
    )


@migrations(legacy_version=3)
def m003_prompt_history(db: sqlite3.Connection) -> None:
    """The questions typed at the prompt, newest last, for Up/Down across launches."""
    db.execute("CREATE TABLE prompts (id INTEGER PRIMARY KEY, text TEXT NOT NULL, created REAL NOT NULL)")


#: Questions the prompt history keeps.
PROMPT_HISTORY = 500


@dataclass
class Exchange:
    """One question and its answer, as shown in the transcript and kept in the store."""

    #: Version of `to_dict`'s layout; `from_dict` reads every earlier one.
    SCHEMA: ClassVar[int] = 3

    question: str
    answer: str = ""
    reasoning: str = ""
    web: bool = False
    sources: list[Source] = field(default_factory=list)
    stats: AnswerStats = field(default_factory=AnswerStats)
    citations: CitationReport = field(default_factory=CitationReport)
    model: str = ""
    stopped: bool = False
    id: int | None = None
    #: Why no answer came (the model server down, say): the question stays, with its error.
    error: str = ""

    @classmethod
    def from_final(cls, question: str, final: Final, *, stopped: bool = False) -> Exchange:
        return cls(
            question,
            final.answer,
            final.reasoning,
            final.web,
            list(final.sources),
            final.stats,
            final.citations,
            final.model,
            stopped,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.SCHEMA,
            "question": self.question,
            "answer": self.answer,
            "reasoning": self.reasoning,
            "web": self.web,
            "sources": [s.to_dict() for s in self.sources],
            "stats": self.stats.to_dict(),
            "citations": self.citations.to_dict(),
            "model": self.model,
            "stopped": self.stopped,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], id: int | None = None) -> Exchange:  # noqa: A002
        """Any schema up to SCHEMA: 1 (the dicts of the first release) has no `stopped`, 2 no
        `error`."""
        if data.get("schema", 1) > cls.SCHEMA:
            raise ValueError(f"exchange schema {data['schema']} is newer than this version ({cls.SCHEMA})")
        return cls(
            question=str(data.get("question", "")),
            answer=str(data.get("answer", "")),
            reasoning=str(data.get("reasoning", "")),
            web=bool(data.get("web", False)),
            sources=[Source.from_dict(s) for s in data.get("sources") or []],
            stats=AnswerStats.from_dict(data.get("stats") or {}),
            citations=CitationReport.from_dict(data.get("citations") or {}),
            model=str(data.get("model", "")),
            stopped=bool(data.get("stopped", False)),
            id=id,
            error=str(data.get("error", "")),
        )


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
        try:
            migrations.apply(self.db, str(path), newer_hint="; your conversations in it are left as they are")
        except BaseException:
            self.db.close()
            raise

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
        # The question and answer have columns of their own too, for a reader of the file.
        cur = self.db.execute(
            """INSERT INTO messages (conversation_id, question, answer, model, created, data)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (
                conversation_id,
                exchange.question,
                exchange.answer,
                exchange.model,
                now,
                json.dumps(exchange.to_dict(), ensure_ascii=False),
            ),
        )
        self.db.execute(
            "UPDATE conversations SET updated = ?, model = ? WHERE id = ?",
            (now, exchange.model, conversation_id),
        )
        return cur.lastrowid

    def exchanges(self, conversation_id: int) -> list[Exchange]:
        rows = self.db.execute(
            "SELECT id, data FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        )
        return [Exchange.from_dict(json.loads(data), id=i) for i, data in rows]

    def set_model(self, conversation_id: int, model: str) -> None:
        """The model this conversation goes on with (picked in the middle of it)."""
        self.db.execute("UPDATE conversations SET model = ? WHERE id = ?", (model, conversation_id))

    def add_prompt(self, text: str) -> None:
        """Remember a question typed at the prompt (not twice in a row)."""
        last = self.db.execute("SELECT text FROM prompts ORDER BY id DESC LIMIT 1").fetchone()
        if last and last[0] == text:
            return
        self.db.execute("INSERT INTO prompts (text, created) VALUES (?, ?)", (text, time.time()))
        self.db.execute(
            "DELETE FROM prompts WHERE id <= (SELECT max(id) FROM prompts) - ?", (PROMPT_HISTORY,)
        )

    def prompts(self, limit: int = PROMPT_HISTORY) -> list[str]:
        """The questions typed at the prompt, oldest first."""
        rows = self.db.execute("SELECT text FROM prompts ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [text for (text,) in reversed(rows)]

    def export_markdown(self, conversation_id: int) -> str:
        """The conversation as Markdown that is safe to render: no control sequences, and no image
        or HTML tag that a viewer would load from the web (an answer's `![x](https://…?d=SECRET)`
        would send what it carries to that host): images become plain links."""
        conversation = self.get(conversation_id)
        if conversation is None:
            raise KeyError(conversation_id)
        lines = [f"# {safe_markdown(conversation.title)}", ""]
        for ex in self.exchanges(conversation_id):
            lines += [f"## {safe_markdown(ex.question)}", ""]
            if ex.web:
                lines += ["*(web search on)*", ""]
            if ex.error:
                lines += [f"*(failed: {safe_markdown(ex.error)})*", ""]
            answer = safe_markdown(ex.answer) if ex.answer else "*(no answer)*"
            lines += [close_code_block(answer) if ex.stopped else answer, ""]
            if ex.stopped:
                lines += ["*(stopped)*", ""]
            if ex.sources:
                lines.append("**Sources**")
                lines.append("")
                lines += [f"- [{s.label}] {_source_line(s)}" for s in ex.sources]
                lines.append("")
        return "\n".join(lines)


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
#: `![alt](target)` and `![alt][ref]`: the `!` makes a viewer fetch the target.
_IMAGE = re.compile(r"!(?=\[[^\]]*\]\s*[(\[])")
#: A raw HTML tag or comment (`<img src=…>`, `<iframe …>`, `<!-- -->`): shown as text instead.
_TAG = re.compile(r"<(?=[A-Za-z!/?])")


def safe_markdown(text: str) -> str:
    """`text` without control sequences, its images turned into links and its raw HTML tags
    escaped, outside code blocks and code spans (code is shown as typed, never loaded)."""
    from .cli.views.terminal_text import plain  # the one control-sequence stripper (not at import:
    # the CLI package imports Session, which imports this module)

    out: list[str] = []
    fence: str | None = None
    for line in plain(text).split("\n"):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            out.append(line)
            continue
        if opened:
            fence = opened.group(1)
            out.append(line)
            continue
        pieces, last = [], 0
        for code in _INLINE_CODE.finditer(line):
            pieces += [_defuse(line[last : code.start()]), code.group(0)]
            last = code.end()
        out.append("".join([*pieces, _defuse(line[last:])]))
    return "\n".join(out)


def _source_line(source: Source) -> str:
    return f"{safe_markdown(source.title)} — {safe_markdown(source.location)}"


def _defuse(text: str) -> str:
    return _TAG.sub("&lt;", _IMAGE.sub("", text))
