"""Bases kept whole on a Chroma server, used from any machine with its URL.

The server holds each base's vectors, its record (settings, manifest, chunk texts:
storage.shared.record) and its writers' lease (storage.shared.lease). This machine keeps a cache
of the record under `HOME/servers/HOST-PORT/NAME/kb.sqlite`, the same SQLite layout as a local
base, so every read is the same code in both modes; each write goes to the server's record first
and then to the cache.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

from ...chroma import server_client
from ...errors import AssistantError, ChromaConnectionError, KnowledgeBaseError
from ...lexical import FileRecord, LexicalIndex, StoredChunk, search_tokens
from .lease import Lease, remove_collections
from .record import Record, server_bases, server_error

#: The settings a base records (the record's collection metadata), copied into the cache.
SETTINGS = ("embedder", "embedder_spec", "english_index", "created_at")


def shared_cache_root(home: Path, chroma_url: str) -> Path:
    """Where this machine caches the records of the bases on the server at `chroma_url`."""
    parsed = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{parsed.hostname}-{parsed.port or 8000}{parsed.path}").strip("_")
    return home / "servers" / slug


class SharedStore:
    """The bases on the Chroma server at `url`, used from the home folder `home`."""

    def __init__(self, home: Path, url: str) -> None:
        self.home, self.url = home, url
        self.cache_root = shared_cache_root(home, url)
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = server_client(self.url)
        return self._client

    def names(self) -> list[str]:
        try:
            return server_bases(self.client)
        except AssistantError:
            raise
        except Exception as exc:
            raise ChromaConnectionError(f"Chroma server at {self.url} failed: {exc}") from exc

    def open(self, name: str, *, create: bool) -> SharedStorage:
        record = Record.find(self.client, name, self.url)
        if record is None and not create:
            raise self._not_found(name)
        return SharedStorage(self, name, record)

    def _not_found(self, name: str) -> KnowledgeBaseError:
        known = ", ".join(self.names()) or "none yet"
        legacy = self.home / "kbs" / name
        if (legacy / "kb.sqlite").is_file() and not (legacy / "chroma").exists():
            return KnowledgeBaseError(
                f"'{name}' was built by an earlier version that kept its manifest on this machine "
                f"and only its vectors on {self.url}; ingest its folder again to make it a "
                f"shared base that every machine can use (`assistant ingest FOLDER --kb {name}`)"
            )
        return KnowledgeBaseError(
            f"no knowledge base named '{name}' on the Chroma server at {self.url} (there: "
            f"{known}); create it with `assistant ingest PATH --kb {name}`"
        )

    def remove(self, name: str) -> None:
        if Record.find(self.client, name, self.url) is None:
            known = ", ".join(self.names()) or "none"
            raise KnowledgeBaseError(f"no knowledge base named '{name}' on {self.url} (there: {known})")
        # Taking the lease first: a base is never removed under a running ingest.
        lease = Lease.acquire(self.client, name, self.url)
        try:
            remove_collections(self.client, name, [vectors_name(name), vectors_name(name, "en")])
        finally:
            lease.stop()
        shutil.rmtree(self.cache_root / name, ignore_errors=True)


def vectors_name(name: str, index: str = "") -> str:
    return f"kb-{name}-{index}-v1" if index else f"kb-{name}-v1"


class SharedStorage:
    """A base on a Chroma server (see the module docstring)."""

    keys_relative = True

    def __init__(self, store: SharedStore, name: str, record: Record | None) -> None:
        self.name, self.url, self.location = name, store.url, store.url
        self.client = store.client
        self.folder = store.cache_root / name
        self.record = record
        self.lease: Lease | None = None
        self._index: LexicalIndex | None = _open_cache(self.folder, record) if record else None
        self._refreshing = threading.Lock()

    @property
    def index(self) -> LexicalIndex:
        if self._index is None:
            raise KnowledgeBaseError(f"the knowledge base '{self.name}' is not created yet")
        return self._index

    def collection_name(self, index: str = "") -> str:
        return vectors_name(self.name, index)

    def recorded_settings(self) -> dict[str, str]:
        return self.record.settings if self.record is not None else {}

    def create(self, settings: dict[str, str]) -> dict[str, str]:
        if self.record is None:
            self.record = Record.create(self.client, self.name, self.url, settings)
            self._index = _open_cache(self.folder, self.record)
        return self.record.settings

    def refresh(self) -> int:
        if self.record is None or self._index is None or self.lease is not None:
            return 0  # a writer's cache takes each of its writes as it makes them
        with self._refreshing:
            return self.record.refresh(self._index)

    def problems(self) -> list[str]:
        return []

    # --- the write guard -----------------------------------------------------------------------
    def begin_write(self) -> bool:
        record = self.record
        assert record is not None, "create() the base before writing"
        lease = Lease.acquire(self.client, self.name, self.url)
        try:
            record.refresh(self.index)
            record.begin_writes(lease)
            record.refresh(self.index)  # what a killed writer stamped beyond the head
        except BaseException:
            record.end_writes()
            lease.release()
            raise
        self.lease = lease
        return lease.took_over

    def end_write(self, *, clean: bool = True) -> None:
        if self.lease is not None:
            lease, self.lease = self.lease, None
            if self.record is not None:
                self.record.end_writes()
            lease.release()

    def check_write(self) -> None:
        if self.lease is not None:
            self.lease.check()

    def claim_source(self, source: str, folder: Path, *, confirmed: bool, confirm=None) -> None:
        pass

    # --- writing: the server's record first, then the cache --------------------------------------
    def write_file(
        self,
        record: FileRecord,
        chunks: Sequence[StoredChunk],
        ingested_at: float,
        embedded: Collection[str] | None,
    ) -> list[str]:
        # Segmented once, for the record and the cache (readers usually did it already).
        chunks = [c if c.tokens is not None else replace(c, tokens=search_tokens(c)) for c in chunks]
        old = self.index.file(record.path)
        kept = set(record.chunk_ids)
        gone = [i for i in (old.chunk_ids if old else ()) if i not in kept]
        self._record.write_file(record, chunks, ingested_at, embedded, gone)
        gone = self.index.replace_file(record, chunks, ingested_at, embedded)
        self._caught_up()
        return gone

    def remove_file(self, path: str) -> list[str]:
        old = self.index.file(path)
        self._record.remove_file(path, old.chunk_ids if old else ())
        gone = self.index.remove_file(path)
        self._caught_up()
        return gone

    def set_embedded(self, ids: Collection[str], embedded: bool = True) -> None:
        self._record.set_embedded(ids, embedded)
        self.index.set_embedded(ids, embedded)
        self._caught_up()

    def remove_stray(self, wanted: set[str]) -> int:
        # The manifest is the server's record (the cache mirrors it now): only what no file of
        # the base accounts for is deleted, whoever wrote it.
        stray = self.index.chunk_ids() - wanted
        self.index.remove_chunks(stray)
        self._record.delete_chunks(self._record.chunk_ids() - wanted)
        return len(stray)

    @property
    def _record(self) -> Record:
        if self.record is None:
            raise KnowledgeBaseError(f"the knowledge base '{self.name}' is not created yet")
        return self.record

    def _caught_up(self) -> None:
        # The writer's cache has each of its writes as soon as the server has it: its next
        # refresh need not fetch them again.
        if self._record.stamped is not None:
            self.index.set_meta("server_seq", str(self._record.stamped))

    def translate(self, exc: Exception) -> Exception | None:
        return server_error(exc, self.name, self.url)

    def close(self) -> None:
        self.end_write()
        if self._index is not None:
            self._index.close()


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
        for key in SETTINGS:
            index.set_meta(key, settings.get(key))
    except BaseException:
        index.close()
        raise
    return index
