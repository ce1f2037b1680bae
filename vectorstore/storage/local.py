"""Bases in the home folder: one folder per base, a file lock for the one writer.

    kbs/NAME/kb.sqlite   the manifest, chunk texts and FTS5 lexical index (vectorstore.lexical)
    kbs/NAME/chroma/     embedded Chroma (the vectors)
    kbs/NAME/lock        locked by the writer (an ingest), so two syncs never interleave

The writer marks the base dirty while it writes; a base found dirty when the next writer starts
was left by one that died, and is repaired first (KnowledgeBase.reconcile).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
from collections.abc import Collection, Sequence
from pathlib import Path

from ..errors import KnowledgeBaseBusyError, NoSuchKnowledgeBaseError
from ..lexical import FileRecord, LexicalIndex, StoredChunk
from .protocol import Confirm, WriteGuard

#: The settings a base records (in its SQLite `meta` table).
SETTINGS = ("embedder", "embedder_spec", "english_index", "created_at")


class LocalStore:
    """The bases under `home/kbs`."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.root = home / "kbs"

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "kb.sqlite").is_file())

    def open(self, name: str, *, create: bool) -> LocalStorage:
        folder = self.root / name
        if not create:
            self._check_exists(name)
        return LocalStorage(name, folder)

    def open_index(self, name: str) -> tuple[LexicalIndex, Path]:
        """Base `name`'s SQLite file alone (its manifest and counts), and its folder: what
        `kb stats` reads, without opening Chroma."""
        self._check_exists(name)
        folder = self.root / name
        return LexicalIndex(folder / "kb.sqlite"), folder

    def _check_exists(self, name: str) -> None:
        if not (self.root / name / "kb.sqlite").is_file():
            raise self.not_found(name)

    def not_found(self, name: str) -> NoSuchKnowledgeBaseError:
        return NoSuchKnowledgeBaseError(name, self.names(), where=f"in {self.root}")

    def remove(self, name: str) -> None:
        folder = self.root / name
        if not (folder / "kb.sqlite").is_file():
            raise self.not_found(name)
        with FileLock(folder, name=name):
            shutil.rmtree(folder / "chroma", ignore_errors=True)
            for entry in folder.iterdir():
                if entry.name != "lock":
                    entry.unlink() if entry.is_file() else shutil.rmtree(entry)
        shutil.rmtree(folder, ignore_errors=True)

    def writer(self, name: str) -> WriteGuard | None:
        folder = self.root / name
        if not (folder / "kb.sqlite").is_file():
            raise self.not_found(name)
        try:
            with FileLock(folder, name=name):
                return None
        except KnowledgeBaseBusyError:
            holder = FileLock.holder(folder) or "a process on this machine"
            return WriteGuard(holder, "it is locked while that process runs")

    def unlock(self, name: str, guard: WriteGuard) -> None:
        if self.writer(name) is None:
            return
        # The operating system releases the lock when its process ends, however it ends: there
        # is never a stale lock to break, only a running ingest to stop.
        raise KnowledgeBaseBusyError(
            f"knowledge base '{name}' is locked by a running process on this machine "
            f"({guard.holder}); stop that process and its lock goes with it"
        )


class LocalStorage:
    """A base in the home folder (see the module docstring)."""

    keys_relative = False

    def __init__(self, name: str, folder: Path) -> None:
        self.name, self.folder, self.location = name, folder, str(folder)
        self._index = LexicalIndex(folder / "kb.sqlite")
        self._client = None
        self._client_lock = threading.Lock()
        self._lock: FileLock | None = None

    @property
    def client(self):
        """The embedded Chroma client (Chroma loads with it: a base may be opened to be searched
        while its vectors open on another thread, see vectorstore.vectors.Collections)."""
        with self._client_lock:
            if self._client is None:
                from ..chroma import embedded_client

                self._client = embedded_client(self.folder / "chroma")
            return self._client

    @property
    def index(self) -> LexicalIndex:
        return self._index

    def collection_name(self, index: str = "") -> str:
        # Chroma names: 3-512 chars of [a-zA-Z0-9._-], starting and ending alphanumeric. Each
        # base has its own embedded Chroma, so these names cannot meet another base's.
        return f"kb-{self.name}-{index}-v1" if index else f"kb-{self.name}-v1"

    def recorded_settings(self) -> dict[str, str]:
        found = {key: self._index.get_meta(key) for key in SETTINGS}
        return {key: value for key, value in found.items() if value is not None}

    def create(self, settings: dict[str, str]) -> dict[str, str]:
        for key, value in settings.items():
            self._index.set_meta(key, value)
        return self.recorded_settings()

    def refresh(self) -> int:
        return 0  # every writer of this base writes this very file

    def problems(self, limit: int = 20) -> tuple[int, list[tuple[str, str]]]:
        return 0, []  # written by this machine's own code alone

    # --- the write guard -----------------------------------------------------------------------
    def begin_write(self) -> bool:
        self._lock = FileLock(self.folder, name=self.name).__enter__()
        repair = bool(self._index.get_meta("dirty"))
        self._index.set_meta("dirty", "1")
        return repair

    def end_write(self, *, clean: bool = True) -> None:
        if self._lock is not None:
            if clean:
                self._index.set_meta("dirty", None)
            self._lock.__exit__()
            self._lock = None

    def check_write(self) -> None:
        pass  # a file lock cannot be taken away from a live process

    def claim_source(self, source: str, folder: Path, *, confirmed: bool, confirm: Confirm | None) -> None:
        pass  # files are known by absolute path: two folders never share keys

    # --- writing -------------------------------------------------------------------------------
    def write_file(
        self,
        record: FileRecord,
        chunks: Sequence[StoredChunk],
        ingested_at: float,
        embedded: Collection[str] | None,
    ) -> list[str]:
        return self._index.replace_file(record, chunks, ingested_at, embedded)

    def remove_file(self, path: str) -> list[str]:
        return self._index.remove_file(path)

    def set_embedded(self, ids: Collection[str], embedded: bool = True) -> None:
        self._index.set_embedded(ids, embedded)

    def remove_stray(self, wanted: set[str]) -> int:
        stray = self._index.chunk_ids() - wanted
        self._index.remove_chunks(stray)
        return len(stray)

    def translate(self, exc: Exception) -> Exception | None:
        return None

    def close(self) -> None:
        self.end_write()
        self._index.close()


class FileLock:
    """An exclusive advisory lock on a base's folder (released by the OS if we are killed)."""

    def __init__(self, folder: Path, *, name: str) -> None:
        self.folder, self.name = folder, name
        self.fd: int | None = None

    def __enter__(self) -> FileLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = None
            raise KnowledgeBaseBusyError(
                f"knowledge base '{self.name}' is being written by another process "
                "(an ingest is running); wait for it to finish"
            ) from None
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"pid {os.getpid()}\n".encode())
        return self

    @staticmethod
    def holder(folder: Path) -> str | None:
        """Who holds the lock, as the holder wrote it (its process id)."""
        try:
            text = (folder / "lock").read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None
        return f"process {text[4:]}" if text.startswith("pid ") and text[4:].isdigit() else None

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
