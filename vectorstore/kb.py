"""A knowledge base: Chroma collections of vectors beside a manifest and lexical index.

Where the manifest lives, who may write and how writes are recorded is the business of the base's
storage (vectorstore.storage), chosen once when the base is opened: a folder in the home folder
(embedded Chroma, SQLite manifest, file lock) or a Chroma server (the server's record, a lease,
a SQLite cache of the record on this machine). `KnowledgeBase` keeps the vectors in step with the
manifest and answers searches the same way in both.

A base built with a multilingual embedder also keeps an English index: a second Chroma
collection with the English chunks embedded by all-MiniLM-L6-v2. The same calls that write, delete
and reconcile the main collection keep it in step; retrieval fuses both (assistant.retrieval).

A sync commits each file to the manifest first (searchable lexically at once), with its chunks
marked not embedded unless their vectors were already stored; it then embeds the pending chunks,
Chroma first, then marking them embedded. The manifest is the record of what is done. A writer
that died leaves the base marked for repair; the next writer first reconciles Chroma and the index
with the manifest, so a crash at any point converges, and then embeds whatever was left pending.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from pathlib import Path

from . import vectors
from .bases import NAME_RE, KBStats, folder_bytes, kb_writer, list_kbs, remove_kb, unlock_kb, validate_name
from .embedder_choice import ENGLISH_EMBEDDER, ENGLISH_LANGUAGES, EmbedderRef, resolve_embedder
from .embedders import Embedder
from .errors import (
    EmbedderMismatchError,
    KnowledgeBaseBusyError,
    KnowledgeBaseError,
)
from .ingest_memory import IngestMemory, shown_path
from .lexical import FileRecord, LexicalHit, LexicalIndex, StoredChunk
from .storage import BaseStorage, Confirm, store_for
from .vectors import Collections, DenseHit, english_index_wanted

__all__ = [
    "DenseHit",
    "ENGLISH_LANGUAGES",
    "EmbedderMismatchError",
    "KBStats",
    "KnowledgeBase",
    "KnowledgeBaseBusyError",
    "KnowledgeBaseError",
    "NAME_RE",
    "english_index_wanted",
    "kb_writer",
    "list_kbs",
    "remove_kb",
    "unlock_kb",
    "validate_name",
]

#: How long a reader trusts its view of a shared base before asking the server what changed.
_REFRESH_EVERY = 3.0


class KnowledgeBase:
    """Open with `KnowledgeBase.open(...)`; use as a context manager to close it."""

    def __init__(
        self,
        name: str,
        home: Path,
        storage: BaseStorage,
        embedder: EmbedderRef,
        settings: dict[str, str],
        *,
        background: bool = False,
    ) -> None:
        self.name = name
        #: The assistant home folder this base is used from.
        self.home = home
        #: Where the manifest lives and who may write (local folder or Chroma server).
        self.storage = storage
        self._embedder = embedder
        self._refreshed = time.monotonic()
        #: The English index's embedder (None when the base has none).
        self.english_embedder: EmbedderRef | None = None
        if settings.get("english_index"):
            spec, embedder_id = ENGLISH_EMBEDDER
            self.english_embedder = EmbedderRef(embedder_id, spec, embedder.ollama_url)
        self._collections = Collections(storage, embedder, self.english_embedder, background=background)

    @property
    def client(self):
        """The Chroma client that holds the base's collections."""
        return self.storage.client

    @property
    def collection(self):
        """The Chroma collection of the main vectors."""
        return self._collections.pair()[0]

    @property
    def english_collection(self):
        """The English index's collection (None when the base has none)."""
        return self._collections.pair()[1]

    @english_collection.setter
    def english_collection(self, collection) -> None:  # a benchmark compares a base without it
        self._collections.pair()[1] = collection

    @property
    def index(self) -> LexicalIndex:
        """The manifest, chunk texts and lexical index (for a shared base: this machine's cache)."""
        return self.storage.index

    @property
    def folder(self) -> Path:
        """Where the base's SQLite file lives (for a shared base: this machine's cache of it)."""
        return self.storage.folder

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
        return self.storage.keys_relative

    @property
    def memory(self) -> IngestMemory:
        """What this machine remembers of the base's ingests: the folders synced, the files
        that failed (vectorstore.ingest_memory)."""
        return IngestMemory(self.index.db)

    def display_path(self, key: str) -> str:
        """File `key` as shown to people: relative to the folder it was ingested from, that
        folder's name first (a shared base's keys already are)."""
        return key if self.shared else shown_path(key, self.memory.folders())

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
        background: bool = False,
    ) -> KnowledgeBase:
        """Open (or create) base `name`, in `home` or, with `chroma_url`, on that Chroma server.

        `embedder` None means the embedder that built the base (the default for a new base);
        naming a different one than the base was built with raises EmbedderMismatchError.
        `english_index` decides, for a new base, whether it keeps an English index; None: when
        its embedder is multilingual and the packaged MiniLM is installed. An existing base keeps
        what it was created with. `background`: open the vectors' collections on a thread (a base
        opened to be searched: see vectors.Collections); their errors come with the first search.
        """
        storage = store_for(home, chroma_url, embedder=embedder).open(validate_name(name), create=create)
        try:
            settings = storage.recorded_settings()
            ref, new = resolve_embedder(name, settings.get, embedder, ollama_url, english_index)
            if new:
                settings = storage.create(new)
                if settings.get("embedder") != new["embedder"]:
                    # Another machine created the base at the same moment, with another embedder.
                    ref, _ = resolve_embedder(name, settings.get, embedder, ollama_url, english_index)
            kb = cls(name, home, storage, ref, settings, background=background)
        except BaseException:
            storage.close()
            raise
        try:
            kb.refresh()
        except BaseException:
            kb.close()
            raise
        return kb

    def refresh(self) -> int:
        """Catch up with what other machines wrote to a shared base; returns how many files
        changed (0 for a base on this machine: every writer writes the same file)."""
        self._refreshed = time.monotonic()
        return self.storage.refresh()

    def _maybe_refresh(self) -> None:
        # A shared base can change under a long-lived reader (the chat app): catch up now and
        # then, at the cost of one small request when nothing changed.
        if time.monotonic() - self._refreshed > _REFRESH_EVERY:
            self.refresh()

    def close(self) -> None:
        self._collections.settle()
        self.storage.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing (used by ingest.sync) ------------------------------------------------------
    def begin_write(self) -> None:
        """Take the write guard (a file lock, or a shared base's lease on the server) and repair
        the base first if the previous writer died or its vectors disagree with the manifest."""
        repair = self.storage.begin_write()
        try:
            if repair or self._vectors_disagree():
                self.reconcile()
        except BaseException:
            self.storage.end_write(clean=False)
            raise

    def end_write(self) -> None:
        self.storage.end_write()

    def claim_source(
        self, source: str, folder: Path, *, confirmed: bool = False, confirm: Confirm | None = None
    ) -> None:
        """Before syncing `folder` as `source` (after `begin_write`): in a shared base, make sure
        the sync removes no files another folder of the same name added. Goes ahead if the source
        is new or came from this folder; else asks `confirm` (or `confirmed`: the user named the
        source explicitly) and raises SourceInUseError without an answer of yes."""
        self.storage.claim_source(source, folder, confirmed=confirmed, confirm=confirm)

    def problems(self, limit: int = 20) -> tuple[int, list[tuple[str, str]]]:
        """What could not be used: entries of a shared base's record that failed validation (how
        many, and up to `limit` as (what, why)); always none for a base on this machine."""
        self._maybe_refresh()
        return self.storage.problems(limit)

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
        stray_rows = self.storage.remove_stray(wanted)
        vector_ids = self._all_vector_ids()
        stray_vectors = [i for i in vector_ids if i not in wanted]
        self._delete_vectors(stray_vectors)
        if self.english_collection is not None:
            stray = [i for i in self._all_vector_ids(self.english_collection) if i not in wanted]
            self._delete_vectors(stray, [self.english_collection])
            stray_vectors += stray
        self._reconcile_embedded(set(vector_ids))
        return stray_rows + len(stray_vectors)

    def upsert_vectors(self, chunks: Sequence[StoredChunk], embeddings: Sequence[Sequence[float]]) -> None:
        self.storage.check_write()
        self._upsert(self.collection, chunks, embeddings)
        if self.english_collection is not None:
            self._upsert_english(chunks)

    def _upsert(
        self, collection, chunks: Sequence[StoredChunk], embeddings: Sequence[Sequence[float]]
    ) -> None:
        vectors.upsert(self._chroma, collection, chunks, embeddings)

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
        by_id = vectors.stored(self._chroma, self.collection, list(ids.values()))
        return {h: by_id[i] for h, i in ids.items() if i in by_id}

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
        gone = self.storage.write_file(record, chunks, time.time(), embedded)
        self._delete_vectors(gone)
        return len(gone)

    def remove_file(self, path: str) -> int:
        gone = self.storage.remove_file(path)
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
        self.storage.set_embedded(ids, embedded)

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
        if collections is None:
            collections = [c for c in (self.collection, self.english_collection) if c is not None]
        vectors.delete(self._chroma, collections, ids)

    def _all_vector_ids(self, collection=None) -> list[str]:
        return vectors.all_ids(self._chroma, collection or self.collection)

    def _chroma(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except Exception as exc:
            translated = self.storage.translate(exc)
            if translated is None:
                raise
            raise translated from exc

    # --- reading ----------------------------------------------------------------------------
    def files(self, under: str | None = None) -> dict[str, FileRecord]:
        """The manifest: every file the base holds (or those at or below the path `under`)."""
        return self.index.files(under)

    def chunks(self, ids: Sequence[str]) -> list[StoredChunk]:
        """The stored chunks `ids` (text and metadata), in that order; ids it lacks are left out."""
        self._maybe_refresh()
        return list(self.index.chunks(ids))

    def touch(self, path: str, mtime_ns: int) -> None:
        """Record a new modification time for an unchanged file (so it is not hashed again)."""
        self.index.touch(path, mtime_ns)

    def stored_vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """The main index's vectors of chunks `ids` (those that have one)."""
        return vectors.stored(self._chroma, self.collection, ids)

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
        return vectors.nearest(self._chroma, collection, vector, k)

    def lexical_search(self, query: str, k: int = 10) -> list[LexicalHit]:
        self._maybe_refresh()
        return self.index.search(query, k)

    def lexical_search_terms(self, terms: Sequence[str], k: int = 10) -> list[LexicalHit]:
        """BM25 for search terms already segmented (a query's translation, an expanded query)."""
        self._maybe_refresh()
        return self.index.search_terms(terms, k)

    def lexical_tokens(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """The indexed search tokens of chunks `ids`."""
        return self.index.tokens(ids)

    def vector_count(self) -> int:
        return int(self._chroma(self.collection.count))

    def stats(self) -> KBStats:
        self._maybe_refresh()
        documents, chunks = self.index.counts()
        size = folder_bytes(self.folder)
        skipped, problems = self.storage.problems()
        return KBStats(
            name=self.name,
            documents=documents,
            chunks=chunks,
            embedder=self.embedder_id,
            bytes=size,
            location=self.storage.location,
            embedded_chunks=self.embedded_count(),
            skipped_entries=skipped,
            problems=tuple(problems),
            ocr_pages=self.index.ocr_pages(),
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
