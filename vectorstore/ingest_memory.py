"""What this machine remembers about the ingests of one base, beside its index (same SQLite file):

- the folders it was synced from, so a file's path can be shown relative to its folder
  (`docs/zh/数据安全法.md`, as ripgrep shows paths under the folder it searched);
- the files that could not be read, as they were then (size, mtime, content hash, the error and
  the readers' version), so that the next ingest reports them as still failing without reading
  them again, until the file, a limit setting or the readers change.

The tables come from the index's migrations (`m004_ingested_folders`, `m005_failed_files`,
`m006_secret_checks`: the secret rules' version each folder's files were last checked with).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class FailedFile:
    """A file that could not be read, as it was when it failed."""

    path: str
    size: int
    mtime_ns: int
    #: The content's hash where the reader got that far ("" when it could not hash it).
    content_hash: str
    error: str
    #: The readers' version and limits then (ingest.reading.readers_version).
    readers: str
    failed_at: float = 0.0


class IngestMemory:
    """The folders and failures tables of one base's index database."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    # --- folders ---------------------------------------------------------------------------
    def add_folder(self, path: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO folders VALUES (?, ?)", (path, time.time()))

    def folders(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT path FROM folders ORDER BY length(path), path")]

    # --- secret checks ---------------------------------------------------------------------
    def secrets_checked(self, folder: str) -> str | None:
        """The secret rules' version the files under `folder` were last checked with, if any."""
        row = self.db.execute("SELECT rules FROM secret_checks WHERE folder = ?", (folder,)).fetchone()
        return row[0] if row else None

    def set_secrets_checked(self, folder: str, rules: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO secret_checks VALUES (?, ?)", (folder, rules))

    # --- failures --------------------------------------------------------------------------
    def failures(self, under: str | None = None) -> dict[str, FailedFile]:
        """The remembered failures, all or those at or below the path `under`."""
        query = "SELECT path, size, mtime_ns, content_hash, error, readers, failed_at FROM failed_files"
        if under is None:
            rows = self.db.execute(query)
        else:
            prefix = under.rstrip("/") + "/"
            rows = self.db.execute(
                query + " WHERE path = ? OR substr(path, 1, ?) = ?", (under, len(prefix), prefix)
            )
        return {row[0]: FailedFile(*row) for row in rows}

    def remember(self, failure: FailedFile) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO failed_files VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                failure.path,
                failure.size,
                failure.mtime_ns,
                failure.content_hash,
                failure.error,
                failure.readers,
                failure.failed_at or time.time(),
            ),
        )

    def forget(self, paths: Iterable[str]) -> None:
        self.db.executemany("DELETE FROM failed_files WHERE path = ?", [(p,) for p in paths])


def shown_path(key: str, folders: Iterable[str], home: str | None = None) -> str:
    """A file of a base on this machine as a person reads it: relative to the outermost synced
    folder that holds it, that folder's name first (`docs/zh/数据安全法.md`); a file under no such
    folder keeps its full path, the home folder written `~`."""
    path = PurePath(key)
    for folder in folders:  # shortest first: the outermost folder wins
        root = PurePath(folder)
        if path == root:
            return path.name
        if root in path.parents:
            return str(PurePath(root.name or str(root)) / path.relative_to(root))
    home = home if home is not None else os.path.expanduser("~")
    if home and home not in ("/", "~") and PurePath(home) in path.parents:
        return str(PurePath("~") / path.relative_to(home))
    return key
