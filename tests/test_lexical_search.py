"""BM25 at a bounded cost: which terms a lexical search asks for, in which shape, and that it
stays exact where no limit is reached and current as the index changes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from vectorstore import FileRecord, StoredChunk
from vectorstore.lexical import LexicalIndex
from vectorstore.lexical_search import Ask, Hit, LexicalSearcher, any_of, bounded_search, phrase
from vectorstore.text import query_terms


class Recorder:
    """A fake index: match counts per expression, and the asks it received."""

    def __init__(self, counts: dict[str, int], rows: int, hits: int = 40) -> None:
        self.counts, self.rows, self.hits = counts, rows, hits
        self.asks: list[Ask] = []

    def count(self, match: str) -> int:
        return self.counts.get(match, 0)

    def run(self, ask: Ask) -> list[Hit]:
        self.asks.append(ask)
        n = min(ask.k, self.hits)
        return [Hit(100 + i, f"c{i}", "", {}, 1.0 / (i + 1), True) for i in range(n)]

    def search(self, terms: list[str], k: int = 10, max_scored: int = 100) -> list[Hit]:
        return bounded_search(terms, k, self.count, self.rows, self.run, max_scored)


def df(**counts: int) -> dict[str, int]:
    return {phrase(t): n for t, n in counts.items()}


def test_below_the_limit_every_found_term_is_asked_at_once() -> None:
    fake = Recorder(df(duck=30, lake=50), rows=1000)
    fake.search(["duck", "lake", "unknown"])
    assert fake.asks == [Ask(any_of(["duck", "lake"]), 10)]  # rarest first; absent terms left out


def test_nothing_is_asked_when_no_term_occurs() -> None:
    fake = Recorder(df(), rows=1000)
    assert fake.search(["nowhere"]) == [] and fake.asks == []


def test_the_rare_terms_are_asked_and_the_common_ones_left_out() -> None:
    # 600 of 1,000 rows hold "ibm": BM25 gives it no weight. "hollerith" and "computer" match
    # 100 rows together, the limit; "machine" would pass it.
    fake = Recorder(df(ibm=600, hollerith=20, computer=80, machine=150), rows=1000)
    hits = fake.search(["ibm", "hollerith", "computer", "machine"], k=10)
    assert fake.asks == [Ask(any_of(["hollerith", "computer"]), 10)]
    assert len(hits) == 10


def test_too_few_rare_rows_are_completed_by_every_term_on_a_sample() -> None:
    fake = Recorder(df(hollerith=3, computer=400, scale=200), rows=1000, hits=3)
    fake.search(["hollerith", "computer", "scale"], k=10)
    first, second = fake.asks
    assert first == Ask(any_of(["hollerith"]), 10)
    # All three terms: the three rare rows scored for certain, and 1 row in 7 of up to 603 rows.
    assert second == Ask(any_of(["hollerith", "scale", "computer"]), 10, stride=7, keep=(100, 101, 102))


def test_a_query_of_common_terms_asks_for_the_rows_holding_them_all() -> None:
    counts = df(data=300, model=250) | {f"{phrase('model')} AND {phrase('data')}": 80}
    fake = Recorder(counts, rows=1000)
    fake.search(["data", "model"], k=10)
    assert fake.asks == [Ask(f"{phrase('model')} AND {phrase('data')}", 10)]
    counts[f"{phrase('model')} AND {phrase('data')}"] = 450
    fake.asks.clear()
    fake.search(["data", "model"], k=10)
    assert fake.asks == [Ask(f"{phrase('model')} AND {phrase('data')}", 10, stride=5)]


def test_common_terms_that_rarely_meet_keep_those_rows_and_sample_the_rest() -> None:
    counts = df(data=300, model=250) | {f"{phrase('model')} AND {phrase('data')}": 2}
    fake = Recorder(counts, rows=1000, hits=2)
    fake.search(["data", "model"], k=10)
    both, every = fake.asks
    assert both == Ask(f"{phrase('model')} AND {phrase('data')}", 10)
    assert every == Ask(any_of(["model", "data"]), 10, stride=6, keep=(100, 101))


# --- on a real index -------------------------------------------------------------------------


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LexicalIndex]:
    idx = LexicalIndex(tmp_path / "kb.sqlite")
    yield idx
    idx.close()


def put(index: LexicalIndex, path: str, texts: list[str]) -> list[str]:
    chunks = [StoredChunk(f"{path}:{i}", text, {"source": path}) for i, text in enumerate(texts)]
    record = FileRecord(path, "hash-" + path, 1, 1, path, "text", tuple(c.id for c in chunks))
    index.replace_file(record, chunks, 0.0)
    return [c.id for c in chunks]


def plain_bm25(path: Path, query: str, k: int) -> list[tuple[str, float]]:
    """The unbounded query: every term, every matching row scored."""
    with sqlite3.connect(path) as db:
        rows = db.execute(
            """SELECT c.id, bm25(chunks_fts) FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid
               WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts) LIMIT ?""",
            (any_of(query_terms(query)), k),
        ).fetchall()
    return [(i, -s) for i, s in rows]


def corpus(n: int = 300) -> list[str]:
    """`n` passages: "report" in every one, "budget" in every 4th, "audit" in every 10th,
    "fraud" in three."""
    out = []
    for i in range(n):
        words = ["quarterly report", f"item{i}"]
        words += ["budget planning"] if i % 4 == 0 else []
        words += ["audit findings"] if i % 10 == 0 else []
        words += ["fraud detected"] if i in (7, 150, 299) else []
        out.append(" ".join(words) + ".")
    return out


def same_ranking(got: list[tuple[str, float]], expected: list[tuple[str, float]]) -> bool:
    """Equal scores in order, and the same passages above the last score (ties there may part)."""
    if [s for _, s in got] != pytest.approx([s for _, s in expected]):
        return False
    last = expected[-1][1] if expected else 0.0
    return {i for i, s in got if s > last + 1e-9} == {i for i, s in expected if s > last + 1e-9}


def test_a_small_base_gets_exactly_the_plain_bm25_ranking(index: LexicalIndex) -> None:
    put(index, "/reports.txt", corpus())
    for query in ("fraud audit budget report", "budget audit", "report", "item7 fraud"):
        got = [(h.id, h.score) for h in index.search(query, k=20)]
        assert same_ranking(got, plain_bm25(index.path, query, 20)), query


def test_a_bounded_search_keeps_the_rare_terms_ranking(index: LexicalIndex, tmp_path: Path) -> None:
    put(index, "/reports.txt", corpus())
    bounded = LexicalSearcher(index.path, max_scored=40)
    try:
        # "report" (all rows) and "budget" (75) exceed the limit; "fraud" and "audit" decide.
        hits = bounded.search(query_terms("fraud audit budget report"), 5)
        plain = plain_bm25(index.path, "fraud audit budget report", 5)
        assert hits[0].id == plain[0][0] == "/reports.txt:150"  # fraud and audit
        assert (
            {h.id for h in hits[1:3]} == {i for i, _ in plain[1:3]} == {"/reports.txt:7", "/reports.txt:299"}
        )
        assert {h.id for h in hits[3:]} <= {f"/reports.txt:{i}" for i in range(0, 300, 10)}
        # Common terms alone: rows with both words, only.
        both = bounded.search(query_terms("budget report"), 5)
        assert len(both) == 5 and all("budget" in h.text and "report" in h.text for h in both)
        # One rare row: the rest is filled from every term on a sample, the rare row first.
        filled = bounded.search(query_terms("item7 budget"), 10)
        assert filled[0].id == "/reports.txt:7" and len(filled) == 10
        assert all("budget" in h.text for h in filled[1:])
    finally:
        bounded.close()


def test_searches_see_every_commit_since_the_last_one(index: LexicalIndex) -> None:
    put(index, "/a.txt", ["The heron waits by the river."] * 3)
    assert len(index.search("heron", k=10)) == 3
    assert index.search("field") == []  # "field" counted: in no passage
    put(index, "/b.txt", ["A heron flew over the field."])  # counts and rows are taken again
    assert len(index.search("heron", k=10)) == 4
    assert [h.id for h in index.search("field")] == ["/b.txt:0"]
    index.remove_file("/a.txt")
    assert [h.id for h in index.search("heron", k=10)] == ["/b.txt:0"]


def test_searches_run_at_once_from_several_threads(index: LexicalIndex) -> None:
    put(index, "/reports.txt", corpus())
    expected = [h.id for h in index.search("fraud audit", k=10)]
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def search() -> None:
        try:
            for _ in range(20):
                results.append([h.id for h in index.search("fraud audit", k=10)])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=search) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(results) == 80 and all(r == expected for r in results)


def test_closing_while_searches_run_waits_for_no_one_and_crashes_nothing(tmp_path: Path) -> None:
    """A session closed while a search thread still queries (an answer stopped, the app quitting)
    closes each connection only once its search is done: a connection closed under a running
    statement crashed the process (a segfault, about one run in five)."""
    index = LexicalIndex(tmp_path / "kb.sqlite")
    put(index, "/reports.txt", corpus(2000))
    outcomes: list[str] = []
    started = threading.Event()

    def search() -> None:
        for _ in range(200):
            try:
                index.search("fraud audit budget", k=10)
            except sqlite3.ProgrammingError:  # closed: said, not crashed
                outcomes.append("closed")
                return
            started.set()
        outcomes.append("finished")

    threads = [threading.Thread(target=search) for _ in range(3)]
    for t in threads:
        t.start()
    assert started.wait(30)
    index.close()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == 3 and set(outcomes) <= {"closed", "finished"}
    with pytest.raises(sqlite3.ProgrammingError):
        index.search("fraud", k=3)
