"""BM25 search over a knowledge base's FTS5 index at a bounded cost.

FTS5 scores every row that matches an OR query (bm25() reads the row's length and its terms'
positions: a few microseconds a row) before it sorts them, so a query costs in proportion to the
rows its terms match. At 100,000 chunks a word found in a tenth of them costs tens of
milliseconds and adds little to the ranking: its inverse document frequency (idf) is low. So, as
Lucene's common-terms query does, a query is asked in a shape whose cost is bounded by
`MAX_SCORED` rows, whatever its words:

- a term found in no passage is left out, and so is one in at least half of them: FTS5's BM25
  gives it no weight there (an idf of at most zero is clamped to 1e-6), only cost;
- the rarer terms are asked first (they decide the ranking), as many as match at most
  `MAX_SCORED` rows together; the commoner ones left out would weigh least;
- when those rarer terms match fewer than the passages asked for, or every term is common, the
  query is asked again with all its terms, scoring exactly the rows the rare terms (or all the
  terms together) match and a sample of the other rows (one in n, by a hash of the row id).

A base below those limits (every base of a few thousand chunks, most queries at 100,000) gets
exactly the plain OR query. Terms are counted once per term and state of the index (a cache that
a commit by any connection empties, `PRAGMA data_version`).

Searches run on reader connections of their own, one per concurrent search, so that two
searches of one query (its own words and their translation) run in parallel: SQLite releases
Python's lock while it works.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The most rows one search scores with BM25 (a few milliseconds' work per thousand).
MAX_SCORED = 4000
#: Counts kept per reader connection before the cache starts over.
_CACHE_LIMIT = 100_000
#: A row id's hash for sampling: Knuth's multiplicative hash modulo a prime below 2**32.
_HASH = "((rowid * 2654435761) % 4294967291)"


@dataclass(frozen=True)
class Hit:
    rowid: int
    id: str
    text: str
    metadata: dict[str, Any]
    score: float  # BM25, higher is better
    embedded: bool


@dataclass(frozen=True)
class Ask:
    """One FTS5 query: its match expression, which rows it scores, and how many it returns."""

    match: str
    k: int
    #: Score only one row in `stride` (1: every row; chosen by a hash of the row id) and those of `keep`.
    stride: int = 1
    keep: tuple[int, ...] = ()


def phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def any_of(terms: Sequence[str]) -> str:
    return " OR ".join(phrase(t) for t in terms)


def all_of(terms: Sequence[str]) -> str:
    return " AND ".join(phrase(t) for t in terms)


def bounded_search(
    terms: Sequence[str],
    k: int,
    count: Callable[[str], int],
    rows: int,
    run: Callable[[Ask], list[Hit]],
    max_scored: int = MAX_SCORED,
) -> list[Hit]:
    """The `k` best rows for `terms` by BM25, scoring at most about `max_scored` rows.

    `count` tells how many rows a match expression matches, `rows` how many the index holds, and
    `run` asks one query (see the module's docstring for the shapes)."""
    frequency = {t: count(phrase(t)) for t in dict.fromkeys(terms)}
    found = sorted((t for t, n in frequency.items() if n), key=lambda t: frequency[t])
    if not found or k <= 0:
        return []
    if sum(frequency[t] for t in found) <= max_scored:
        return run(Ask(any_of(found), k))
    ordered = [t for t in found if 2 * frequency[t] < rows] or found
    rare: list[str] = []
    total = 0
    for term in ordered:
        if total + frequency[term] > max_scored:
            break
        rare.append(term)
        total += frequency[term]
    if rare:
        hits = run(Ask(any_of(rare), k))
        if len(hits) >= k or len(rare) == len(ordered):
            return hits
    else:  # every term is common: the rows that hold them all come first (Lucene's AND)
        together = all_of(ordered)
        matched = count(together)
        if matched >= k:
            return run(Ask(together, k, stride=_stride(matched, max_scored)))
        hits = run(Ask(together, k)) if matched else []
    # Too few rows hold the rare terms (or all the terms): every term, those rows exactly and a
    # sample of the rest.
    rest = sum(frequency[t] for t in ordered)
    return run(Ask(any_of(ordered), k, stride=_stride(rest, max_scored), keep=tuple(h.rowid for h in hits)))


def _stride(rows: int, max_scored: int) -> int:
    return max(1, math.ceil(rows / max_scored))


class _Reader:
    """One read connection and the match counts it has seen for the index's current state."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA query_only = 1")
        self._version: int | None = None
        self._counts: dict[str, int] = {}
        self._rows: int | None = None

    def fresh(self) -> None:
        """Forget the counts if anything was committed since they were taken."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version or len(self._counts) > _CACHE_LIMIT:
            self._version, self._counts, self._rows = version, {}, None

    def count(self, match: str) -> int:
        if match not in self._counts:
            self._counts[match] = self.db.execute(
                "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (match,)
            ).fetchone()[0]
        return self._counts[match]

    def rows(self) -> int:
        if self._rows is None:
            self._rows = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return self._rows

    def run(self, ask: Ask) -> list[Hit]:
        where = "chunks_fts MATCH ?"
        if ask.stride > 1:
            keep = ",".join(str(int(r)) for r in ask.keep)
            # Rows sampled by a hash of their id, not every n-th id: a word in the first chunk of
            # every file would fall on a period of the row ids. `+rowid`: a filter on the rows
            # FTS5 returns, not one lookup of the index per row id.
            where += f" AND ({_HASH} % {int(ask.stride)} = 0 OR +rowid IN ({keep}))"
        # The top rows first, then their text: reading the text of every matching row costs more
        # than scoring it.
        rows = self.db.execute(
            f"""SELECT f.rowid, c.id, c.text, c.metadata, f.score, c.embedded
                FROM (SELECT rowid, bm25(chunks_fts) AS score FROM chunks_fts WHERE {where}
                      ORDER BY score LIMIT ?) f
                JOIN chunks c ON c.rowid = f.rowid ORDER BY f.score""",
            (ask.match, ask.k),
        ).fetchall()
        # FTS5's bm25() is negative, lower is better; flip it so higher is better everywhere.
        return [Hit(r[0], r[1], r[2], json.loads(r[3]), -r[4], bool(r[5])) for r in rows]

    def close(self) -> None:
        self.db.close()


class LexicalSearcher:
    """Bounded BM25 searches of one index file, on reader connections made as they are needed.

    A connection is closed only while no search uses it: `close` closes the idle ones and a busy
    one is closed by its search as it ends (closing a connection under a running statement in
    another thread crashes the process)."""

    def __init__(self, path: Path, max_scored: int = MAX_SCORED) -> None:
        self.path, self.max_scored = path, max_scored
        self._idle: list[_Reader] = []
        self._lock = threading.Lock()
        self._closed = False

    def search(self, terms: Sequence[str], k: int) -> list[Hit]:
        if not terms:
            return []
        with self._reader() as reader:
            reader.fresh()
            return bounded_search(terms, k, reader.count, reader.rows(), reader.run, self.max_scored)

    def read(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple]:
        """Rows of one read-only statement, on a reader connection."""
        with self._reader() as reader:
            return reader.db.execute(sql, parameters).fetchall()

    @contextmanager
    def _reader(self) -> Iterator[_Reader]:
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError(f"the lexical index {self.path} is closed")
            reader = self._idle.pop() if self._idle else _Reader(self.path)
        try:
            yield reader
        finally:
            with self._lock:
                closed = self._closed
                if not closed:
                    self._idle.append(reader)
            if closed:
                reader.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for reader in idle:
            reader.close()
