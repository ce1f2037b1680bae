"""A base's record on a Chroma server: its settings, its manifest, its chunks and its sources.

The record is one collection (storage.shared.names) whose metadata holds the base's settings and
record format, with one entry per file (the manifest), one per chunk (text, metadata, search
tokens, whether its vector is stored) and one per source (the folders a source name was ingested
from: storage.shared.sources). The entries hold no vectors; each has a one-number embedding (its
sequence number) because Chroma keeps an embedding for every entry.

Chroma's server has no lexical index, so each machine keeps a SQLite copy of the record as a
cache (storage.shared.cache), brought up to date by fetching only the entries stamped after the
cache's last sequence number: keeping it current costs what changed, deleting it costs one rebuild.

Sequence numbers: only the lease holder writes. It stamps each file and chunk entry it writes
with the next number and then advances the record's head; readers fetch entries in (their last
head, head], so they never see half of a write, and entries a killed writer stamped beyond the
head are adopted by the next writer. A file that is removed leaves a tombstone entry, so caches
learn of removals. Whatever the server returns is checked (storage.shared.entries) and every
catch-up is bounded by what the server holds, whatever its head says.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ...chroma import ChromaEmbeddingFunction
from ...errors import (
    AssistantError,
    ChromaConnectionError,
    DatabaseNewerError,
    KnowledgeBaseError,
    SharedBaseError,
)
from ...lexical import TOKENIZER_VERSION, FileRecord, StoredChunk, search_tokens
from .entries import MAX_SEQ, BadEntry, ChunkEntry, FileEntry, chunk_entry, file_entry, file_id, seq_of
from .names import RECORD_FORMAT, Layout


class WriteLease(Protocol):
    """What the record asks of the writer's lease (storage.shared.lease.Lease)."""

    def check(self) -> None:
        """Raise if another writer took the lease over."""
        ...


#: Entries fetched per request when a cache catches up.
_PAGE = 2000
_BATCH = 500
_HEAD = "@head"


def server_error(exc: Exception, name: str, url: str) -> AssistantError:
    """What a failed request to the server means for base `name`."""
    from chromadb.errors import NotFoundError

    if isinstance(exc, NotFoundError):
        return KnowledgeBaseError(
            f"the knowledge base '{name}' is no longer on the Chroma server at {url} (it was "
            f"removed, perhaps from another machine); `assistant kb list` shows what is there"
        )
    return server_failed(url, exc)


def server_failed(url: str, exc: Exception) -> ChromaConnectionError:
    """A request to the server at `url` failed (it stopped, or it answered with an error)."""
    return ChromaConnectionError(
        f"Chroma server at {url} failed: {exc}; check that it is running (`chroma run`)"
    )


def record_function() -> ChromaEmbeddingFunction:
    """The embedding function of record and lease collections: they hold no vectors."""
    return ChromaEmbeddingFunction("record", "record", _no_vectors)


def _no_vectors() -> Any:
    raise SharedBaseError("the record collection holds no vectors; nothing should embed for it")


def _chunk_id(chunk_id: str) -> str:
    return "c:" + chunk_id


@dataclass
class Changes:
    """What a cache lacks: the latest entry of each file by path (BadEntry: that entry failed
    validation), chunk entries by id, entries that failed validation, and the head."""

    files: dict[str, FileEntry | BadEntry] = field(default_factory=dict)
    chunks: dict[str, ChunkEntry] = field(default_factory=dict)
    #: (entry id, path if known, reason) of each entry that failed validation.
    bad: list[tuple[str, str, str]] = field(default_factory=list)
    head: int = 0


class Record:
    """A base's record on a Chroma server (see the module docstring)."""

    def __init__(self, client, collection, name: str, url: str, layout: Layout) -> None:
        self.client, self.collection, self.name, self.url = client, collection, name, url
        #: The names of the base's collections (format 1 until its next writer upgrades it).
        self.layout = layout
        self._seq: int | None = None  # the last sequence number stamped, while writing
        self.lease: WriteLease | None = None

    # --- finding and creating -----------------------------------------------------------------
    @classmethod
    def find(cls, client, name: str, url: str) -> Record | None:
        """The record of base `name` in format 2, else in format 1, else None."""
        for layout in (Layout(name), Layout(name, 1)):
            collection = get_collection(client, layout.record, url)
            if collection is not None and _is_record(collection.metadata, layout):
                return cls(client, collection, name, url, layout)
        return None

    @classmethod
    def create(cls, client, name: str, url: str, settings: dict[str, str]) -> Record:
        """Create the record of a new base; if another machine just did, open that one."""
        layout = Layout(name)
        try:
            collection = client.create_collection(
                layout.record,
                embedding_function=record_function(),
                configuration={"hnsw": {"space": "l2"}},
                metadata={**settings, "format": str(RECORD_FORMAT)},
            )
        except Exception as exc:
            found = cls.find(client, name, url)
            if found is not None:
                return found
            if get_collection(client, layout.record, url) is not None:
                raise SharedBaseError(
                    f"the Chroma server at {url} holds a collection named '{layout.record}' that is "
                    f"not a knowledge base's record; remove it there or choose another base name"
                ) from None
            raise server_failed(url, exc) from exc
        mark_format_1_name(client, name, layout)
        return cls(client, collection, name, url, layout)

    @property
    def id(self) -> str:
        """Identifies this base: a base removed and created again under its name is another one."""
        return str(self.collection.id)

    @property
    def settings(self) -> dict[str, str]:
        """The base's settings as recorded (plain strings; the caller decides what to trust)."""
        meta = dict(self.collection.metadata or {})
        return {k: v for k, v in meta.items() if k != "format" and isinstance(v, str)}

    def _call(self, fn: Callable, **kwargs):
        try:
            return fn(**kwargs)
        except AssistantError:
            raise
        except Exception as exc:
            raise server_error(exc, self.name, self.url) from exc

    # --- reading --------------------------------------------------------------------------------
    def head(self) -> int | None:
        """The last sequence number readers may fetch up to (None: the head entry is malformed)."""
        got = self._call(self.collection.get, ids=[_HEAD], include=["metadatas"])
        if not got["ids"]:
            return 0
        try:
            return seq_of(got["metadatas"][0] or {})
        except BadEntry:
            return None

    def newest(self, since: int) -> int:
        """The highest sequence number a writer could have stamped among the entries stamped
        after `since` (`since` if none): where a malformed head leaves readers to read up to."""
        got = self._call(self.collection.get, where={"seq": {"$gt": since}}, include=["metadatas"])
        return max([since, *_valid_seqs(got["metadatas"])])

    def changes(self, since: int, head: int) -> Changes:
        """Every entry stamped in (since, head], checked; file entries the latest of each path."""
        changes = Changes(head=head)
        files: list[tuple[str, dict[str, Any]]] = []
        for entry_id, meta, text in self._entries_between(since, head):
            kind = meta.get("type")
            if kind == "file":
                files.append((entry_id, meta))
            elif kind == "chunk":
                try:
                    changes.chunks[entry_id[2:]] = chunk_entry(entry_id, meta, text, TOKENIZER_VERSION)
                except BadEntry as exc:
                    changes.bad.append((entry_id, _path_of(meta), f"chunk entry: {exc}"))
        for entry_id, meta in files:
            _add_file(changes, entry_id, meta)
        return changes

    def _entries_between(self, since: int, head: int) -> Iterator[tuple[str, dict[str, Any], object]]:
        # Windows of sequence numbers, widened while they come back nearly empty and narrowed
        # when one holds more than a page: the number of requests follows the entries the server
        # holds, not how far ahead its head claims to be.
        low, span = since, _PAGE
        while low < head:
            high = min(head, low + span)
            got = self._call(
                self.collection.get,
                where={"$and": [{"seq": {"$gt": low}}, {"seq": {"$lte": high}}]},
                include=["metadatas", "documents"],
                limit=_PAGE + 1,
            )
            if len(got["ids"]) > _PAGE and high - low > 1:
                span = max(1, (high - low) // 2)
                continue
            for entry_id, meta, text in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
                yield entry_id, dict(meta or {}), text
            low = high
            if len(got["ids"]) < _PAGE // 4:
                span = min(span * 2, MAX_SEQ)

    def chunk_entries(self, ids: Sequence[str]) -> dict[str, ChunkEntry | BadEntry]:
        """The chunk entries `ids`, checked (those the record lacks are left out)."""
        found: dict[str, ChunkEntry | BadEntry] = {}
        for start in range(0, len(ids), _BATCH):
            part = [_chunk_id(i) for i in ids[start : start + _BATCH]]
            got = self._call(self.collection.get, ids=part, include=["metadatas", "documents"])
            for entry_id, meta, text in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
                try:
                    found[entry_id[2:]] = chunk_entry(entry_id, dict(meta or {}), text, TOKENIZER_VERSION)
                except BadEntry as exc:
                    found[entry_id[2:]] = exc
        return found

    def chunk_ids(self) -> set[str]:
        """Ids of every chunk entry (for recovery)."""
        ids: set[str] = set()
        offset = 0
        while True:
            got = self._call(
                self.collection.get, where={"type": "chunk"}, include=[], limit=5000, offset=offset
            )
            ids.update(i[2:] for i in got["ids"])
            if len(got["ids"]) < 5000:
                return ids
            offset += len(got["ids"])

    def get_entry(self, entry_id: str) -> dict[str, Any] | None:
        """The metadata of entry `entry_id` (None if there is none)."""
        got = self._call(self.collection.get, ids=[entry_id], include=["metadatas"])
        return dict(got["metadatas"][0] or {}) if got["ids"] else None

    def put_entry(self, entry_id: str, meta: dict[str, Any]) -> None:
        """Write an entry outside the sequence (read by writers only, never by caches)."""
        self._call(
            self.collection.upsert, ids=[entry_id], embeddings=[[0.0]], metadatas=[meta], documents=[""]
        )

    # --- writing (the lease holder only) ------------------------------------------------------
    def begin_writes(self, lease: WriteLease, known: int) -> None:
        """Start stamping after the highest number on the server (a killed writer's included).
        `known` is the caller's last head, used when the record's head entry is malformed."""
        self.lease = lease
        head = self.head()
        base = head if head is not None else known
        got = self._call(self.collection.get, where={"seq": {"$gt": base}}, include=["metadatas"])
        self._seq = max([base, *_valid_seqs(got["metadatas"])])
        self._publish()

    @property
    def stamped(self) -> int | None:
        """The last sequence number this writer stamped (None when not writing)."""
        return self._seq

    def end_writes(self) -> None:
        self._seq = None
        self.lease = None

    def _next(self) -> int:
        if self._seq is None or self.lease is None:
            raise SharedBaseError(f"writing to '{self.name}' without holding its lease")
        self.lease.check()
        self._seq += 1
        return self._seq

    def _publish(self) -> None:
        seq = self._seq or 0
        self._call(
            self.collection.upsert,
            ids=[_HEAD],
            embeddings=[[0.0]],
            metadatas=[{"type": "head", "seq": seq}],
            documents=[""],
        )

    def write_file(
        self,
        record: FileRecord,
        chunks: Sequence[StoredChunk],
        ingested_at: float,
        embedded: Collection[str] | None,
        gone: Iterable[str],
    ) -> None:
        """Record a file and its chunks; entries of its chunks in `gone` are deleted after."""
        entries = []
        for chunk in chunks:
            tokens = chunk.tokens if chunk.tokens is not None else search_tokens(chunk)
            seq = self._next()
            meta = {
                "type": "chunk",
                "path": record.path,
                "meta": json.dumps(chunk.metadata, ensure_ascii=False),
                "embed_hash": chunk.embed_hash,
                "tokens": tokens,
                "tokenizer": TOKENIZER_VERSION,
                "embedded": embedded is None or chunk.id in embedded,
                "seq": seq,
            }
            entries.append((_chunk_id(chunk.id), chunk.text, meta, seq))
        seq = self._next()
        meta = {
            "type": "file",
            "path": record.path,
            "content_hash": record.content_hash,
            "size": record.size,
            "title": record.title,
            "kind": record.kind,
            "chunk_ids": json.dumps(list(record.chunk_ids)),
            "ingested_at": ingested_at,
            "deleted": False,
            "seq": seq,
        }
        entries.append((file_id(record.path), "", meta, seq))
        self._upsert(entries)
        self._delete_chunks(gone)
        self._publish()

    def remove_file(self, path: str, gone: Iterable[str]) -> None:
        seq = self._next()
        meta = {"type": "file", "path": path, "deleted": True, "chunk_ids": "[]", "seq": seq}
        self._upsert([(file_id(path), "", meta, seq)])
        self._delete_chunks(gone)
        self._publish()

    def set_embedded(self, ids: Collection[str], embedded: bool = True) -> None:
        ids = list(ids)
        if not ids:
            return
        for start in range(0, len(ids), _BATCH):
            part = ids[start : start + _BATCH]
            metas = [{"embedded": embedded, "seq": self._next()} for _ in part]
            self._call(self.collection.update, ids=[_chunk_id(i) for i in part], metadatas=metas)
        self._publish()

    def delete_chunks(self, ids: Iterable[str]) -> None:
        self._delete_chunks(ids)

    def _delete_chunks(self, ids: Iterable[str]) -> None:
        ids = [_chunk_id(i) for i in ids]
        for start in range(0, len(ids), _BATCH):
            self._call(self.collection.delete, ids=ids[start : start + _BATCH])

    def _upsert(self, entries: list[tuple[str, str, dict[str, Any], int]]) -> None:
        for start in range(0, len(entries), _BATCH):
            part = entries[start : start + _BATCH]
            self._call(
                self.collection.upsert,
                ids=[e[0] for e in part],
                documents=[e[1] for e in part],
                metadatas=[e[2] for e in part],
                embeddings=[[float(e[3])] for e in part],
            )


def _add_file(changes: Changes, entry_id: str, meta: dict[str, Any]) -> None:
    """Keep the latest file entry of each path; a malformed one is reported (and, when it is the
    path's own entry, stands for the path: its content is unknown)."""
    try:
        entry: FileEntry | BadEntry = file_entry(entry_id, meta)
        path, seq = entry.path, entry.seq
    except BadEntry as exc:
        path = _path_of(meta)
        changes.bad.append((entry_id, path, f"file entry: {exc}"))
        if not path or entry_id != file_id(path):
            return  # an entry that is not this path's own: the path keeps its real one
        entry, seq = exc, _seq_or_zero(meta)
    current = changes.files.get(path)
    if current is None or isinstance(current, BadEntry) or current.seq < seq:
        changes.files[path] = entry


def mark_format_1_name(client, name: str, layout: Layout) -> None:
    """Leave, under the base's format-1 record name, a marker that versions before this one read
    as "written by a newer version" (rather than creating a second base of the same name)."""
    try:
        client.create_collection(
            Layout(name, 1).record,
            embedding_function=record_function(),
            metadata={"format": str(RECORD_FORMAT), "moved_to": layout.record},
        )
    except Exception:  # there already (a base moved from format 1), or the server refused: harmless
        pass


def _valid_seqs(metadatas: Sequence[dict[str, Any] | None]) -> list[int]:
    found = []
    for meta in metadatas:
        try:
            found.append(seq_of(dict(meta or {})))
        except BadEntry:
            continue
    return found


def _path_of(meta: dict[str, Any]) -> str:
    path = meta.get("path")
    return path if isinstance(path, str) and 0 < len(path) <= 4096 else ""


def _seq_or_zero(meta: dict[str, Any]) -> int:
    try:
        return seq_of(meta)
    except BadEntry:
        return 0


def all_collections(client) -> Iterator[Any]:
    """Every collection on the server (name and metadata), a page at a time."""
    offset = 0
    while True:
        page = client.list_collections(limit=100, offset=offset)
        yield from page
        if len(page) < 100:
            return
        offset += len(page)


def get_collection(client, name: str, url: str):
    """Collection `name`, or None. No embedding function is asked for: one made by another
    client (a plain Chroma client records "default") must not make the read fail."""
    from chromadb.errors import NotFoundError

    try:
        return client.get_collection(name, embedding_function=None)
    except NotFoundError:
        return None
    except Exception as exc:
        raise server_failed(url, exc) from exc


def _is_record(metadata: dict[str, Any] | None, layout: Layout) -> bool:
    """Whether a collection named like a record in `layout` is one, and readable."""
    meta = dict(metadata or {})
    record_format = str(meta.get("format", ""))
    if layout.format == 1:
        # A format-1 name may be another base's vectors (they carry "kb"); a record that was
        # moved to format 2 leaves a marker there for the versions before this one.
        return record_format == "1" and "kb" not in meta
    if not record_format.isdigit():
        return False
    if int(record_format) > RECORD_FORMAT:
        raise DatabaseNewerError(
            f"the record of knowledge base '{layout.name}' on the Chroma server was written "
            f"by a newer version of the assistant (record format {int(record_format)}; this "
            f"version reads up to {RECORD_FORMAT}); upgrade the assistant to use it"
        )
    return True
