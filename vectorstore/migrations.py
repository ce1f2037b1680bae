"""Named schema migrations for SQLite databases, recorded in the database they changed.

Each kind of database (a knowledge base's index, the conversation store) keeps its own
`Migrations` list. A migration is a function registered with the list's decorator and named for
what it does; it runs once per database, in one transaction with the row of `_migrations` that
records its name and when it ran:

    migrations = Migrations("knowledge-base index")

    @migrations
    def m003_skipped_entries(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE skipped (...)")

A database that records a migration this code does not know was written by a newer version of
the assistant: `apply` refuses it (DatabaseNewerError names the database and the migration)
instead of reading a schema it does not understand.

Databases made before migrations had names counted them in `PRAGMA user_version`. A migration
registered with `legacy_version=N` is the N-th of that count: a database whose user_version is N
or more already has it, and `apply` records it there without running it again. The count is kept
at the last legacy number, so that older code still opens a file whose later changes only add.

Migrations run inside the runner's transaction, so they use `db.execute` (or `run_script` for a
block of SQL), never `executescript`, which would commit half way.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import DatabaseNewerError

Migration = Callable[[sqlite3.Connection], None]

_TABLE = "_migrations"


@dataclass(frozen=True)
class _Step:
    name: str
    run: Migration
    legacy_version: int | None


class Migrations:
    """The ordered migrations of one kind of database (see the module docstring)."""

    def __init__(self, kind: str) -> None:
        #: What these databases are, as a user would call them (for messages).
        self.kind = kind
        self._steps: list[_Step] = []

    def __call__(self, fn: Migration | None = None, *, legacy_version: int | None = None):
        """Register `fn` as the next migration: `@migrations` or `@migrations(legacy_version=2)`."""

        def register(fn: Migration) -> Migration:
            if any(step.name == fn.__name__ for step in self._steps):
                raise ValueError(f"two migrations named {fn.__name__}")
            self._steps.append(_Step(fn.__name__, fn, legacy_version))
            return fn

        return register(fn) if fn is not None else register

    @property
    def names(self) -> list[str]:
        return [step.name for step in self._steps]

    def apply(self, db: sqlite3.Connection, where: str, *, newer_hint: str = "") -> list[str]:
        """Bring database `db` (at `where`, for messages) up to date; returns the names applied.

        Raises DatabaseNewerError if the database records a migration this code does not know;
        `newer_hint` is added to that message (e.g. that the file is only a cache).
        """
        previous = db.isolation_level
        db.isolation_level = None  # the runner opens and closes its own transactions
        try:
            db.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} (name TEXT PRIMARY KEY, applied_at REAL)")
            self._adopt_legacy(db, where, newer_hint)
            applied = []
            for step in self._steps:
                if self._run_once(db, step):
                    applied.append(step.name)
            self._refuse_unknown(db, where, newer_hint)
            self._keep_legacy_count(db)
            return applied
        finally:
            db.isolation_level = previous

    def _applied(self, db: sqlite3.Connection) -> set[str]:
        return {row[0] for row in db.execute(f"SELECT name FROM {_TABLE}")}

    def _refuse_unknown(self, db: sqlite3.Connection, where: str, hint: str) -> None:
        unknown = sorted(self._applied(db) - set(self.names))
        if unknown:
            raise DatabaseNewerError(
                f"{where} was written by a newer version of the assistant: it records the "
                f"{self.kind} migration '{unknown[0]}', which this version does not know; upgrade "
                f"the assistant (`pip install -U r1-assistant`) to open it{hint}"
            )

    def _adopt_legacy(self, db: sqlite3.Connection, where: str, hint: str) -> None:
        """Record the migrations a numbered (user_version) database already has."""
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if not version:
            return
        with _transaction(db):
            if self._applied(db):
                return  # adopted before (or by another process a moment ago)
            known = max((s.legacy_version or 0 for s in self._steps), default=0)
            if version > known:
                raise DatabaseNewerError(
                    f"{where} was written by a newer version of the assistant ({self.kind} schema "
                    f"version {version}; this version knows up to {known}); upgrade the assistant "
                    f"(`pip install -U r1-assistant`) to open it{hint}"
                )
            for step in self._steps:
                if step.legacy_version is not None and step.legacy_version <= version:
                    db.execute(f"INSERT INTO {_TABLE} VALUES (?, ?)", (step.name, 0.0))

    def _keep_legacy_count(self, db: sqlite3.Connection) -> None:
        # Code from before named migrations reads user_version alone: keep it at the count that
        # code knows, so that it opens a newer file (whose later changes only add) rather than
        # running its first script again on existing tables.
        legacy = max((s.legacy_version or 0 for s in self._steps), default=0)
        if db.execute("PRAGMA user_version").fetchone()[0] < legacy:
            db.execute(f"PRAGMA user_version = {int(legacy)}")

    def _run_once(self, db: sqlite3.Connection, step: _Step) -> bool:
        if step.name in self._applied(db):
            return False
        with _transaction(db):
            # Checked again inside the transaction: another process may have run it meanwhile.
            if step.name in self._applied(db):
                return False
            step.run(db)
            db.execute(f"INSERT INTO {_TABLE} VALUES (?, ?)", (step.name, time.time()))
        return True


def run_script(db: sqlite3.Connection, script: str) -> None:
    """Run each statement of `script` with `db.execute` (inside the caller's transaction)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement.strip()[:80]}")


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raises."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
