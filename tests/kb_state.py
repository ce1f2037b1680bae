"""Everything a knowledge base holds, read back from Chroma and SQLite, for comparing bases."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from vectorstore import FileRecord, KnowledgeBase


@dataclass(frozen=True)
class KBState:
    #: Ids as Chroma lists them (a list, so duplicates would show).
    vector_ids: list[str]
    #: Chunk id -> document text stored in Chroma.
    vector_texts: dict[str, str]
    #: Ids in the SQLite `chunks` table, as listed.
    chunk_ids: list[str]
    #: Chunk id -> text in the SQLite `chunks` table.
    chunk_texts: dict[str, str]
    #: Chunk id -> the tokens its FTS5 row holds.
    fts_tokens: dict[str, str]
    fts_rows: int
    manifest: dict[str, FileRecord]
    #: Chunk id -> 1 if recorded as embedded (its vector stored), else 0.
    embedded: dict[str, int]

    @property
    def manifest_chunk_ids(self) -> set[str]:
        return {cid for record in self.manifest.values() for cid in record.chunk_ids}

    def assert_consistent(self) -> None:
        """Chroma, the chunk table, the FTS index and the manifest all describe the same chunks."""
        assert len(self.vector_ids) == len(set(self.vector_ids)), "duplicate ids in Chroma"
        assert len(self.chunk_ids) == len(set(self.chunk_ids)), "duplicate ids in SQLite"
        assert set(self.vector_ids) == set(self.chunk_ids) == self.manifest_chunk_ids
        assert self.fts_rows == len(self.chunk_ids) == len(self.fts_tokens)
        assert self.vector_texts == self.chunk_texts
        assert set(self.embedded) == set(self.chunk_ids) and all(self.embedded.values())


def kb_state(kb: KnowledgeBase) -> KBState:
    got = kb.collection.get(include=["documents"])
    rows = kb.index.db.execute("SELECT id, text FROM chunks ORDER BY rowid").fetchall()
    fts = kb.index.db.execute(
        "SELECT c.id, f.tokens FROM chunks c JOIN chunks_fts f ON f.rowid = c.rowid"
    ).fetchall()
    fts_rows = kb.index.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
    return KBState(
        vector_ids=list(got["ids"]),
        vector_texts=dict(zip(got["ids"], got["documents"], strict=True)),
        chunk_ids=[r[0] for r in rows],
        chunk_texts=dict(rows),
        fts_tokens=dict(fts),
        fts_rows=fts_rows,
        manifest=kb.index.files(),
        embedded=dict(kb.index.db.execute("SELECT id, embedded FROM chunks").fetchall()),
    )


def sqlite_counts(home: Path, name: str = "default") -> tuple[int, int, str | None]:
    """(files, chunks, dirty flag) read straight from the base's SQLite file, no Chroma involved."""
    db = sqlite3.connect(home / "kbs" / name / "kb.sqlite")
    try:
        files = db.execute("SELECT count(*) FROM files").fetchone()[0]
        chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        dirty = db.execute("SELECT value FROM meta WHERE key = 'dirty'").fetchone()
    finally:
        db.close()
    return files, chunks, dirty[0] if dirty else None
