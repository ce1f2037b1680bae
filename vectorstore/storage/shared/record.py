"""A base's record on a Chroma server: its settings, its manifest and its chunks.

With a Chroma server, the server is the record of a base; any machine with the URL can use it:

    kb-NAME-v1          the vectors (as with embedded Chroma), with the chunk texts
    kb-NAME-en-v1       the English index's vectors, when the base has one
    kb-NAME-record-v1   the record: the base's settings (collection metadata), one entry per file
                        (the manifest) and one per chunk (text, metadata, search tokens, whether
                        its vector is stored), each stamped with a sequence number
    kb-NAME-lease-G-v1  the writers' lease, generation G (storage.shared.lease)

Chroma's local server has no lexical index, so each machine keeps a local SQLite copy of the
record (vectorstore.lexical) as a cache: `Record.refresh` fetches only the entries stamped after
the cache's last sequence number, so keeping it current costs what changed, and deleting it costs
one rebuild. The entries hold no vectors; each has a one-number embedding (its sequence number)
because Chroma keeps an embedding for every entry.

Sequence numbers: only the lease holder writes. It stamps each entry it writes with the next
number and then advances the record's head; readers fetch entries in (their last head, head], so
they never see half of a write, and entries a killed writer stamped beyond the head are adopted by
the next writer. A file that is removed leaves a tombstone entry, so caches learn of removals.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...chroma import ChromaEmbeddingFunction
from ...errors import AssistantError, ChromaConnectionError, KnowledgeBaseError, SharedBaseError
from ...lexical import TOKENIZER_VERSION, FileRecord, LexicalIndex, StoredChunk, search_tokens

if TYPE_CHECKING:
    from .lease import Lease

#: Bumped if the record's layout changes incompatibly.
RECORD_FORMAT = "1"
#: Sequence numbers fetched per request when a cache catches up.
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
    return ChromaConnectionError(f"Chroma server at {url} failed: {exc}")


def record_name(name: str) -> str:
    return f"kb-{name}-record-v1"


def server_bases(client) -> list[str]:
    """The names of the bases whose record is on this server."""
    suffix = "-record-v1"
    return sorted(
        n[3 : -len(suffix)] for n in _collection_names(client) if n.startswith("kb-") and n.endswith(suffix)
    )


def _collection_names(client) -> Iterator[str]:
    """The name of every collection on the server, a page at a time."""
    offset = 0
    while True:
        page = client.list_collections(limit=100, offset=offset)
        yield from (collection.name for collection in page)
        if len(page) < 100:
            return
        offset += len(page)


def _no_vectors() -> Any:
    raise SharedBaseError("the record collection holds no vectors; nothing should embed for it")


def _file_id(path: str) -> str:
    return "f:" + hashlib.sha256(path.encode("utf-8")).hexdigest()[:40]


def _chunk_id(chunk_id: str) -> str:
    return "c:" + chunk_id


@dataclass(frozen=True)
class Changes:
    """What a cache lacks: file entries by path (the latest of each) and chunk entries by id."""

    files: dict[str, dict[str, Any]]
    chunks: dict[str, tuple[str, dict[str, Any]]]
    head: int


class Record:
    """A base's record on a Chroma server (see the module docstring)."""

    def __init__(self, client, collection, name: str, url: str) -> None:
        self.client, self.collection, self.name, self.url = client, collection, name, url
        self._seq: int | None = None  # the next sequence number, while writing
        self.lease: Lease | None = None

    # --- finding and creating -----------------------------------------------------------------
    @classmethod
    def find(cls, client, name: str, url: str) -> Record | None:
        from chromadb.errors import NotFoundError

        try:
            collection = client.get_collection(record_name(name), embedding_function=_record_function())
        except NotFoundError:
            return None
        except Exception as exc:
            raise ChromaConnectionError(f"Chroma server at {url} failed: {exc}") from exc
        return cls(client, collection, name, url)

    @classmethod
    def create(cls, client, name: str, url: str, settings: dict[str, str]) -> Record:
        """Create the record of a new base; if another machine just did, open that one."""
        try:
            collection = client.create_collection(
                record_name(name),
                embedding_function=_record_function(),
                configuration={"hnsw": {"space": "l2"}},
                metadata={**settings, "format": RECORD_FORMAT},
            )
        except Exception as exc:
            found = cls.find(client, name, url)
            if found is None:
                raise ChromaConnectionError(f"Chroma server at {url} failed: {exc}") from exc
            return found
        return cls(client, collection, name, url)

    @property
    def id(self) -> str:
        """Identifies this base: a base removed and created again under its name is another one."""
        return str(self.collection.id)

    @property
    def settings(self) -> dict[str, str]:
        meta = dict(self.collection.metadata or {})
        if meta.get("format", RECORD_FORMAT) != RECORD_FORMAT:
            raise SharedBaseError(
                f"the knowledge base '{self.name}' on {self.url} was written by a newer version of "
                "the assistant (record format {meta.get('format')}); upgrade to use it"
            )
        return {k: str(v) for k, v in meta.items() if k != "format"}

    def _call(self, fn: Callable, **kwargs):
        try:
            return fn(**kwargs)
        except AssistantError:
            raise
        except Exception as exc:
            raise server_error(exc, self.name, self.url) from exc

    # --- reading --------------------------------------------------------------------------------
    def head(self) -> int:
        got = self._call(self.collection.get, ids=[_HEAD], include=["metadatas"])
        return int(got["metadatas"][0]["seq"]) if got["ids"] else 0

    def changes(self, since: int) -> Changes:
        """Every entry stamped after `since`, up to the head as it is now."""
        head = self.head()
        files: dict[str, dict[str, Any]] = {}
        chunks: dict[str, tuple[str, dict[str, Any]]] = {}
        low = since
        while low < head:
            high = min(head, low + _PAGE)
            got = self._call(
                self.collection.get,
                where={"$and": [{"seq": {"$gt": low}}, {"seq": {"$lte": high}}]},
                include=["metadatas", "documents"],
            )
            for entry_id, meta, text in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
                if meta.get("type") == "file":
                    if meta["path"] not in files or files[meta["path"]]["seq"] < meta["seq"]:
                        files[meta["path"]] = meta
                elif meta.get("type") == "chunk":
                    chunks[entry_id[2:]] = (text or "", meta)
            low = high
        return Changes(files, chunks, head)

    def chunk_entries(self, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        for start in range(0, len(ids), _BATCH):
            part = [_chunk_id(i) for i in ids[start : start + _BATCH]]
            got = self._call(self.collection.get, ids=part, include=["metadatas", "documents"])
            for entry_id, meta, text in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
                found[entry_id[2:]] = (text or "", meta)
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

    def refresh(self, index: LexicalIndex) -> int:
        """Bring the local cache `index` up to date with the record; returns how many files changed.

        Idempotent: a refresh interrupted part way is completed by the next one.
        """
        since = int(index.get_meta("server_seq") or 0)
        changes = self.changes(since)
        if changes.head <= since:
            return 0
        for path, meta in sorted(changes.files.items(), key=lambda item: item[1]["seq"]):
            if meta.get("deleted"):
                index.remove_file(path)
                continue
            ids = json.loads(meta["chunk_ids"])
            local = {c.id: c for c in index.chunks(ids)}
            missing = [i for i in ids if i not in changes.chunks and i not in local]
            if missing:
                changes.chunks.update(self.chunk_entries(missing))
            stored = []
            for chunk_id in ids:
                if chunk_id in changes.chunks:
                    stored.append(_stored(chunk_id, *changes.chunks[chunk_id]))
                elif chunk_id in local:
                    stored.append(local[chunk_id])
            old = index.file(path)
            mtime = old.mtime_ns if old and old.content_hash == meta["content_hash"] else 0
            record = FileRecord(
                path, meta["content_hash"], int(meta["size"]), mtime, meta["title"], meta["kind"], tuple(ids)
            )
            embedded = {i for i in ids if i in changes.chunks and changes.chunks[i][1].get("embedded")}
            index.replace_file(record, stored, float(meta["ingested_at"]), embedded)
        # Chunks whose vectors were stored (or found missing) since: their flags alone changed.
        flags = {i: bool(meta.get("embedded")) for i, (_, meta) in changes.chunks.items()}
        index.set_embedded([i for i, done in flags.items() if done])
        index.set_embedded([i for i, done in flags.items() if not done], embedded=False)
        index.set_meta("server_seq", str(changes.head))
        return len(changes.files)

    # --- writing (the lease holder only) ------------------------------------------------------
    def begin_writes(self, lease: Lease) -> None:
        """Start stamping after the highest number on the server (a killed writer's included)."""
        self.lease = lease
        head = self.head()
        got = self._call(self.collection.get, where={"seq": {"$gt": head}}, include=["metadatas"])
        self._seq = max([head, *(int(m["seq"]) for m in got["metadatas"])])
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
            entries.append(
                (
                    _chunk_id(chunk.id),
                    chunk.text,
                    {
                        "type": "chunk",
                        "path": record.path,
                        "meta": json.dumps(chunk.metadata, ensure_ascii=False),
                        "embed_hash": chunk.embed_hash,
                        "tokens": tokens,
                        "tokenizer": TOKENIZER_VERSION,
                        "embedded": embedded is None or chunk.id in embedded,
                        "seq": seq,
                    },
                    seq,
                )
            )
        seq = self._next()
        entries.append(
            (
                _file_id(record.path),
                "",
                {
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
                },
                seq,
            )
        )
        self._upsert(entries)
        self._delete_chunks(gone)
        self._publish()

    def remove_file(self, path: str, gone: Iterable[str]) -> None:
        seq = self._next()
        self._upsert(
            [
                (
                    _file_id(path),
                    "",
                    {"type": "file", "path": path, "deleted": True, "chunk_ids": "[]", "seq": seq},
                    seq,
                )
            ]
        )
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


def _stored(chunk_id: str, text: str, meta: dict[str, Any]) -> StoredChunk:
    tokens = meta.get("tokens") if meta.get("tokenizer") == TOKENIZER_VERSION else None
    return StoredChunk(
        chunk_id, text, json.loads(meta.get("meta") or "{}"), meta.get("embed_hash", ""), tokens
    )


def _record_function() -> ChromaEmbeddingFunction:
    return ChromaEmbeddingFunction("record", "record", _no_vectors)
