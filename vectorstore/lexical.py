"""The persistent lexical index and the sync manifest of one knowledge base, in SQLite.

One SQLite file per base holds, in one transaction per change:
- `files`: what was ingested from where (content hash, size, mtime, chunk ids): the sync manifest;
- `chunks`: every chunk's text and metadata;
- `chunks_fts`: an FTS5 index of the chunks' segmented, normalised tokens (see vectorstore.text),
  ranked with BM25. It is updated by the same sync that writes Chroma, never rebuilt per query;
- `chunks.embedded`: whether the chunk's vector is in Chroma. A sync commits chunks lexically
  first (searchable at once) and embeds them after, so an interrupted embedding resumes from here.
Schema changes are named migrations applied on open (vectorstore.migrations).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .lexical_search import LexicalSearcher
from .migrations import Migrations, run_script
from .text import query_terms, segment

#: Bump when vectorstore.text's segmentation changes: existing bases re-tokenize once on open.
TOKENIZER_VERSION = "2"  # 1: jieba search mode; 2: plus CJK bigrams
#: The most text one chunk can hold (the largest chunk setting, 100,000 weighted characters, and
#: some slack); text beyond it is never embedded, nor read from a shared base's server.
MAX_CHUNK_CHARS = 120_000

#: The index's schema, one named migration per change (vectorstore.migrations).
migrations = Migrations("knowledge-base index")


@migrations(legacy_version=1)
def m001_initial(db: sqlite3.Connection) -> None:
    run_script(
        db,
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
    )


@migrations(legacy_version=2)
def m002_chunks_embedded_flag(db: sqlite3.Connection) -> None:
    # Chunks are committed before they are embedded; rows from before were embedded first.
    run_script(
        db,
        """
        ALTER TABLE chunks ADD COLUMN embedded INTEGER NOT NULL DEFAULT 1;
        CREATE INDEX chunks_pending ON chunks(embedded) WHERE embedded = 0;
        """,
    )


@migrations
def m003_skipped_entries(db: sqlite3.Connection) -> None:
    # A shared base's cache: the record's entries that failed validation, to be named to the user.
    db.execute("CREATE TABLE skipped (entry TEXT PRIMARY KEY, path TEXT NOT NULL, reason TEXT NOT NULL)")


@migrations
def m004_ingested_folders(db: sqlite3.Connection) -> None:
    # The folders a base on this machine was synced from: paths are shown relative to them.
    db.execute("CREATE TABLE folders (path TEXT PRIMARY KEY, synced_at REAL NOT NULL)")


@migrations
def m005_failed_files(db: sqlite3.Connection) -> None:
    # Files that could not be read, as they were then: not read again until they or the readers
    # change (vectorstore.ingest_memory).
    db.execute(
        "CREATE TABLE failed_files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER "
        "NOT NULL, content_hash TEXT NOT NULL, error TEXT NOT NULL, readers TEXT NOT NULL, "
        "failed_at REAL NOT NULL)"
    )


@migrations
def m006_secret_checks(db: sqlite3.Connection) -> None:
    # Which version of the secret rules the files under each synced folder were last checked
    # with: an ingest reads the unchanged files again when the rules changed (ingest.sync).
    db.execute("CREATE TABLE secret_checks (folder TEXT PRIMARY KEY, rules TEXT NOT NULL)")


@dataclass(frozen=True)
class FileRecord:
    path: str
    content_hash: str
    size: int
    mtime_ns: int
    title: str
    kind: str
    chunk_ids: tuple[str, ...]


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict[str, Any]
    #: Hash of the exact text that was embedded; equal hashes can share a vector.
    embed_hash: str = ""
    #: The segmented search tokens, when already computed (off the writer's thread).
    tokens: str | None = None


@dataclass(frozen=True)
class LexicalHit:
    id: str
    text: str
    metadata: dict[str, Any]
    score: float  # BM25, higher is better
    #: False while the chunk's vector is not stored yet (dense retrieval cannot see it).
    embedded: bool = True


class LexicalIndex:
    def __init__(self, path: Path, *, newer_hint: str = "") -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the ingest pipeline parses on a worker thread but all writes
        # happen on one thread at a time.
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            migrations.apply(self.db, str(path), newer_hint=newer_hint)
            self._retokenize_if_outdated()
        except BaseException:
            self.db.close()
            raise
        #: Searches read on connections of their own (vectorstore.lexical_search).
        self.searcher = LexicalSearcher(path)

    def _retokenize_if_outdated(self) -> None:
        """Rebuild the FTS rows once when the segmentation (vectorstore.text) has changed."""
        if self.get_meta("tokenizer") == TOKENIZER_VERSION:
            return
        with self._transaction():
            self.db.execute("DELETE FROM chunks_fts")
            rows = self.db.execute("SELECT rowid, id, text, metadata FROM chunks").fetchall()
            for rowid, chunk_id, text, metadata in rows:
                tokens = search_tokens(StoredChunk(chunk_id, text, json.loads(metadata)))
                self.db.execute("INSERT INTO chunks_fts (rowid, tokens) VALUES (?, ?)", (rowid, tokens))
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('tokenizer', ?)", (TOKENIZER_VERSION,))

    def close(self) -> None:
        self.searcher.close()
        self.db.close()

    # --- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- manifest ---------------------------------------------------------------------------
    def file(self, path: str) -> FileRecord | None:
        row = self.db.execute("SELECT * FROM files WHERE path = ?", (path,)).fetchone()
        return _file_record(row) if row else None

    def files(self, under: str | None = None) -> dict[str, FileRecord]:
        """Manifest entries, all or those at or below the path `under`."""
        if under is None:
            rows = self.db.execute("SELECT * FROM files")
        else:
            prefix = under.rstrip("/") + "/"
            rows = self.db.execute(
                "SELECT * FROM files WHERE path = ? OR substr(path, 1, ?) = ?",
                (under, len(prefix), prefix),
            )
        return {row[0]: _file_record(row) for row in rows}

    def touch(self, path: str, mtime_ns: int) -> None:
        self.db.execute("UPDATE files SET mtime_ns = ? WHERE path = ?", (mtime_ns, path))

    def replace_file(
        self,
        record: FileRecord,
        chunks: Iterable[StoredChunk],
        ingested_at: float,
        embedded: Collection[str] | None = None,
    ) -> list[str]:
        """Atomically make `record` and its chunks the indexed state of its path.

        New chunks are recorded as embedded if their id is in `embedded` (None: all of them);
        chunks the path already had keep their state. Returns the ids of the path's previous
        chunks that are no longer present.
        """
        chunks = list(chunks)
        new_ids = {c.id for c in chunks}
        with self._transaction():
            old = self._delete_chunks_of(record.path, keep=new_ids)
            existing = {r[0] for r in self.db.execute("SELECT id FROM chunks WHERE path = ?", (record.path,))}
            for chunk in chunks:
                if chunk.id in existing:
                    continue
                cur = self.db.execute(
                    "INSERT INTO chunks (id, path, text, metadata, embed_hash, embedded) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        chunk.id,
                        record.path,
                        chunk.text,
                        json.dumps(chunk.metadata, ensure_ascii=False),
                        chunk.embed_hash,
                        int(embedded is None or chunk.id in embedded),
                    ),
                )
                tokens = chunk.tokens if chunk.tokens is not None else search_tokens(chunk)
                self.db.execute(
                    "INSERT INTO chunks_fts (rowid, tokens) VALUES (?, ?)", (cur.lastrowid, tokens)
                )
            self.db.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.path,
                    record.content_hash,
                    record.size,
                    record.mtime_ns,
                    record.title,
                    record.kind,
                    json.dumps(list(record.chunk_ids)),
                    ingested_at,
                ),
            )
        return old

    def remove_file(self, path: str) -> list[str]:
        """Forget `path` and its chunks; returns the removed chunk ids."""
        with self._transaction():
            removed = self._delete_chunks_of(path, keep=set())
            self.db.execute("DELETE FROM files WHERE path = ?", (path,))
        return removed

    def remove_chunks(self, ids: Iterable[str]) -> None:
        with self._transaction():
            for chunk_id in ids:
                row = self.db.execute("SELECT rowid FROM chunks WHERE id = ?", (chunk_id,)).fetchone()
                if row:
                    self.db.execute("DELETE FROM chunks_fts WHERE rowid = ?", row)
                    self.db.execute("DELETE FROM chunks WHERE rowid = ?", row)

    def clear(self) -> None:
        """Forget every file and chunk (a cache rebuilt from its server); settings are kept."""
        with self._transaction():
            for table in ("chunks_fts", "chunks", "files", "skipped"):
                self.db.execute(f"DELETE FROM {table}")

    # --- entries of a shared base's record that failed validation ----------------------------
    def skip(self, entry: str, path: str, reason: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?)", (entry, path, reason))

    def unskip(self, *, path: str | None = None, entry: str | None = None) -> None:
        """A valid entry for `path` (or entry `entry`) arrived: earlier bad ones no longer matter."""
        if path is not None:
            self.db.execute("DELETE FROM skipped WHERE path = ?", (path,))
        if entry is not None:
            self.db.execute("DELETE FROM skipped WHERE entry = ?", (entry,))

    def skipped(self, limit: int) -> tuple[int, list[tuple[str, str]]]:
        """How many entries were skipped, and up to `limit` of them as (path or entry, reason)."""
        count = self.db.execute("SELECT count(*) FROM skipped").fetchone()[0]
        rows = self.db.execute(
            "SELECT CASE path WHEN '' THEN entry ELSE path END, reason FROM skipped "
            "ORDER BY path, entry LIMIT ?",
            (limit,),
        )
        return count, [(row[0], row[1]) for row in rows]

    # --- embedding state --------------------------------------------------------------------
    def pending_chunks(self, limit: int) -> list[StoredChunk]:
        """Up to `limit` chunks whose vectors are not stored yet, in the order they were added."""
        rows = self.db.execute(
            "SELECT id, substr(text, 1, ?), metadata, embed_hash FROM chunks WHERE embedded = 0 "
            "ORDER BY rowid LIMIT ?",
            (MAX_CHUNK_CHARS, limit),
        ).fetchall()
        return [StoredChunk(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]

    def pending_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM chunks WHERE embedded = 0")}

    def set_embedded(self, ids: Iterable[str], embedded: bool = True) -> None:
        """Record that these chunks' vectors are (or are not) stored, in one transaction."""
        with self._transaction():
            self.db.executemany(
                "UPDATE chunks SET embedded = ? WHERE id = ?", [(int(embedded), i) for i in ids]
            )

    def set_embedded_where(self, flags: Iterable[tuple[str, str, bool]]) -> None:
        """Set each (chunk id, path, embedded) flag, where that chunk belongs to that path."""
        with self._transaction():
            self.db.executemany(
                "UPDATE chunks SET embedded = ? WHERE id = ? AND path = ?",
                [(int(done), chunk_id, path) for chunk_id, path, done in flags],
            )

    def embedded_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM chunks WHERE embedded = 1").fetchone()[0]

    def _delete_chunks_of(self, path: str, keep: set[str]) -> list[str]:
        rows = self.db.execute("SELECT rowid, id FROM chunks WHERE path = ?", (path,)).fetchall()
        gone = [(rowid, cid) for rowid, cid in rows if cid not in keep]
        self.db.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(r,) for r, _ in gone])
        self.db.executemany("DELETE FROM chunks WHERE rowid = ?", [(r,) for r, _ in gone])
        return [cid for _, cid in gone]

    def _transaction(self):
        return _Transaction(self.db)

    # --- reading ----------------------------------------------------------------------------
    def ids_for_embed_hashes(self, hashes: Iterable[str]) -> dict[str, str]:
        """A chunk id with a stored vector for each hash that some embedded chunk was made from."""
        found: dict[str, str] = {}
        for h in set(hashes):
            row = self.db.execute(
                "SELECT id FROM chunks WHERE embed_hash = ? AND embedded = 1 LIMIT 1", (h,)
            ).fetchone()
            if row:
                found[h] = row[0]
        return found

    def chunk_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM chunks")}

    def chunks(self, ids: Iterable[str]) -> Iterator[StoredChunk]:
        for chunk_id in ids:
            row = self.db.execute(
                "SELECT id, text, metadata FROM chunks WHERE id = ?", (chunk_id,)
            ).fetchone()
            if row:
                yield StoredChunk(row[0], row[1], json.loads(row[2]))

    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""
        files = self.db.execute("SELECT count(*) FROM files").fetchone()[0]
        chunks = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return files, chunks

    def ocr_pages(self) -> int:
        """Pages (or images) whose chunks were read by OCR (chunk metadata `ocr`)."""
        return self.db.execute(
            "SELECT count(*) FROM (SELECT DISTINCT path, json_extract(metadata, '$.page') FROM chunks "
            "WHERE json_extract(metadata, '$.ocr') = 1)"
        ).fetchone()[0]

    def titles(self, limit: int) -> list[str]:
        """Titles of up to `limit` documents, the most recently ingested first."""
        rows = self.db.execute("SELECT title FROM files ORDER BY ingested_at DESC LIMIT ?", (limit,))
        return [row[0] for row in rows]

    def search(self, query: str, k: int = 10) -> list[LexicalHit]:
        """BM25 over segmented tokens: any query term may match, more and rarer terms rank higher."""
        return self.search_terms(query_terms(query), k)

    def search_terms(self, terms: Sequence[str], k: int = 10) -> list[LexicalHit]:
        """BM25 for search terms already segmented and normalised (as `query_terms` makes them),
        at a bounded cost: terms found in a large share of the passages may be left out or
        sampled (vectorstore.lexical_search)."""
        hits = self.searcher.search(terms, k)
        return [LexicalHit(h.id, h.text, h.metadata, h.score, h.embedded) for h in hits]

    def tokens(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """The indexed search tokens of chunks `ids` (for feedback on what a query found)."""
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"""SELECT c.id, f.tokens FROM chunks c JOIN chunks_fts f ON f.rowid = c.rowid
                WHERE c.id IN ({marks})""",
            list(ids),
        ).fetchall()
        return {chunk_id: tokens.split() for chunk_id, tokens in rows}


def search_tokens(chunk: StoredChunk) -> str:
    """The FTS5 document for a chunk: its title, heading and text, segmented and normalised."""
    # Titles and headings are part of what a passage is about.
    parts = [
        str(chunk.metadata.get("title", "")),
        str(chunk.metadata.get("heading", "")),
        chunk.text,
    ]
    return " ".join(segment("\n".join(p for p in parts if p)))


def _file_record(row: tuple) -> FileRecord:
    return FileRecord(
        path=row[0],
        content_hash=row[1],
        size=row[2],
        mtime_ns=row[3],
        title=row[4],
        kind=row[5],
        chunk_ids=tuple(json.loads(row[6])),
    )


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
