"""Large dictionaries as SQLite tables in a cache folder, read a text's substrings at a time.

Segmenting or tokenizing a query consults a dictionary only for the query's own substrings, yet
jieba (500,000 words) and the e5 tokenizer (250,000 pieces) load the whole of theirs first: half
a second and 50-90 MB each on an idle machine. A table here holds such a dictionary keyed by its
strings; a query reads the entries of its substrings with one indexed SELECT, and the tokenizer
given just those entries gives exactly the same result (see vectorstore.word_table and
vectorstore.embedders.e5_query, tested against the whole dictionaries).

Tables are written once per machine (and per version of what they come from, which their file
names carry) into the cache folder the front-end names with `use_cache_folder` (HOME/cache), and
can be deleted at any time. Without a cache folder the callers load their whole dictionaries.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

_folder: Path | None = None
_lock = threading.Lock()
#: SQLite's oldest limit on the parameters of one statement.
_PARAMETERS = 900
#: The layout of the tables (entries and meta); a table of another layout is written again.
FORMAT = 1

#: (rows of (key, value, ...), meta) of a table, computed when it is written.
Contents = tuple[Iterable[tuple], dict[str, object]]


def use_cache_folder(folder: Path | None) -> None:
    """Where lookup tables live (None: nowhere, dictionaries load whole). Set once by the
    front-end from its settings (assistant.session)."""
    global _folder
    _folder = folder


def cache_folder() -> Path | None:
    return _folder


class LookupTable:
    """A table at `path` with a text key and `values` columns, written from `contents()` on
    first use (atomically: concurrent writers each write their own file and the last rename wins)."""

    def __init__(self, path: Path, values: tuple[str, ...], contents: Callable[[], Contents]) -> None:
        self.path, self.values, self._contents = path, values, contents
        self._meta: dict[str, str] | None = None

    def meta(self) -> dict[str, str]:
        if self._meta is None:
            db = self._connect()
            try:
                self._meta = dict(db.execute("SELECT key, value FROM meta"))
            finally:
                db.close()
        return self._meta

    def find(self, keys: Collection[str]) -> dict[str, tuple]:
        """The values of those `keys` the table holds."""
        keys = list(keys)
        found: dict[str, tuple] = {}
        columns = ", ".join(self.values)
        db = self._connect()
        try:
            for at in range(0, len(keys), _PARAMETERS):
                part = keys[at : at + _PARAMETERS]
                marks = ",".join("?" * len(part))
                rows = db.execute(f"SELECT key, {columns} FROM entries WHERE key IN ({marks})", part)
                found.update((row[0], row[1:]) for row in rows)
        finally:
            db.close()
        return found

    def _connect(self) -> sqlite3.Connection:
        with _lock:
            if not self._readable():
                self._write()  # new, or left by an older version or damaged: written again
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)

    def _readable(self) -> bool:
        if not self.path.is_file():
            return False
        try:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            finally:
                db.close()
        except sqlite3.DatabaseError:
            return False
        return row is not None and row[0] == str(FORMAT)

    def _write(self) -> None:
        rows, meta = self._contents()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{self.path.stem}-", dir=self.path.parent)
        os.close(fd)
        try:
            db = sqlite3.connect(temporary)
            with db:
                columns = ", ".join(self.values)
                db.execute(f"CREATE TABLE entries (key TEXT PRIMARY KEY, {columns}) WITHOUT ROWID")
                db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
                marks = ",".join("?" * (len(self.values) + 1))
                db.executemany(f"INSERT INTO entries VALUES ({marks})", rows)
                meta = {**meta, "format": FORMAT}
                db.executemany("INSERT INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])
            db.close()
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def substrings(text: str, longest: int) -> set[str]:
    """Every substring of `text` up to `longest` characters long."""
    return {text[a:b] for a in range(len(text)) for b in range(a + 1, min(len(text), a + longest) + 1)}
