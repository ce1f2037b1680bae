"""The storage protocol: what `KnowledgeBase` asks of where a base lives (see vectorstore.storage)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..lexical import FileRecord, LexicalIndex, StoredChunk

#: Asks the user a yes/no question at a terminal (None where nobody can answer).
Confirm = Callable[[str], bool]


@dataclass(frozen=True)
class WriteGuard:
    """Who holds a base's write guard now, as it may be shown to the user."""

    holder: str
    #: Since when, and what becomes of it (e.g. when a lease expires), in words.
    detail: str
    #: What `Store.unlock` needs to break exactly this guard (not one taken since).
    token: object = None


class BaseStorage(Protocol):
    """One opened base: its manifest (`index`), its write guard and its record."""

    name: str
    #: The folder of the base's SQLite file on this machine (for a shared base: the cache's).
    folder: Path
    #: Where the base is, as shown to the user: a folder or the server's URL.
    location: str
    #: Whether files are known as `SOURCE/relative/path` (a shared base) or by absolute path.
    keys_relative: bool
    #: The Chroma client that holds the base's vector collections.
    client: Any

    @property
    def index(self) -> LexicalIndex:
        """The manifest, chunk texts and lexical index (valid once the settings are known)."""
        ...

    def collection_name(self, index: str = "") -> str:
        """The Chroma collection of the main vectors ("") or of the English index ("en")."""
        ...

    def recorded_settings(self) -> dict[str, str]:
        """The base's settings (embedder, English index...); empty for a base not created yet."""
        ...

    def create(self, settings: dict[str, str]) -> dict[str, str]:
        """Record the settings of a new base; returns those now recorded (another machine may
        have created the base first, with its own)."""
        ...

    def refresh(self) -> int:
        """Catch up with changes other processes or machines made; returns how many files."""
        ...

    def problems(self, limit: int = 20) -> tuple[int, list[tuple[str, str]]]:
        """What could not be used (entries of a shared record that failed validation): how many,
        and up to `limit` of them as (what, why)."""
        ...

    def begin_write(self) -> bool:
        """Take the write guard; returns whether the base needs repair (a writer died)."""
        ...

    def end_write(self, *, clean: bool = True) -> None:
        """Give the write guard back (`clean`: the base is consistent now)."""
        ...

    def check_write(self) -> None:
        """Raise if this writer lost the guard (before writing vectors)."""
        ...

    def claim_source(self, source: str, folder: Path, *, confirmed: bool, confirm: Confirm | None) -> None:
        """Before a sync of `folder` as `source` (holding the guard): make sure it removes no
        other folder's files; `confirmed`: the user named the source explicitly."""
        ...

    def write_file(
        self,
        record: FileRecord,
        chunks: Sequence[StoredChunk],
        ingested_at: float,
        embedded: Collection[str] | None,
    ) -> list[str]:
        """Record a file and its chunks; returns the ids of its chunks that are gone."""
        ...

    def remove_file(self, path: str) -> list[str]:
        """Forget a file; returns its chunk ids."""
        ...

    def set_embedded(self, ids: Collection[str], embedded: bool = True) -> None: ...

    def remove_stray(self, wanted: set[str]) -> int:
        """Delete chunk rows (and record entries) no file accounts for; returns how many rows."""
        ...

    def translate(self, exc: Exception) -> Exception | None:
        """What a failed Chroma call means for the user (None: raise it as it is)."""
        ...

    def close(self) -> None: ...


class Store(Protocol):
    """Where bases live: a home folder, or a Chroma server."""

    def names(self) -> list[str]: ...

    def open(self, name: str, *, create: bool) -> BaseStorage: ...

    def remove(self, name: str) -> None: ...

    def writer(self, name: str) -> WriteGuard | None:
        """Who holds the write guard of base `name` now (None: nobody)."""
        ...

    def unlock(self, name: str, guard: WriteGuard) -> None:
        """Break `guard` (as `writer` returned it), if it still holds the base."""
        ...
