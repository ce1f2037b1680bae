"""One ranker: `candidates.gather` asks any index for its lists, `ranking.rank` turns them into the
passages shown; `KBRetriever.search` is exactly the two, so the benchmarks measure the product."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest

from assistant.retrieval.candidates import Candidates, DenseIndex, DenseList, Passage, gather
from assistant.retrieval.dictionary import QueryTranslation
from assistant.retrieval.feedback import REPEATS, expanded_terms
from assistant.retrieval.ranking import RetrievalOptions, rank


class FakeIndex:
    """Records what the gatherer asks; answers from fixed lists."""

    def __init__(self) -> None:
        self.asked: list[tuple] = []
        self.lexical = [Passage("en1", "The dog sleeps.", 2.0, {"source": "/a"})]
        self.translated = [Passage("zh1", "狗在睡觉。", 3.0, {"source": "/b"})]

    def lexical_search(self, query: str, k: int) -> Sequence[Passage]:
        self.asked.append(("lexical", query, k))
        return self.lexical

    def lexical_search_terms(self, terms: Sequence[str], k: int) -> Sequence[Passage]:
        self.asked.append(("terms", tuple(terms), k))
        return self.translated

    def lexical_tokens(self, ids: Sequence[str]) -> dict[str, list[str]]:
        self.asked.append(("tokens", tuple(ids)))
        return {i: ["dog", "sleeps", "kennel", "kennel"] for i in ids}

    def dense(self, name: str, query: str, k: int) -> list[Passage]:
        self.asked.append((name, query, k))
        return [Passage("zh1", "狗在睡觉。", 0.9, {"source": "/b"}), Passage("en1", "The dog sleeps.", 0.5)]

    def dense_indexes(self) -> list[DenseIndex]:
        return [
            DenseIndex(None, partial(self.dense, "main")),
            DenseIndex(frozenset({"en"}), partial(self.dense, "english"), optional=True),
        ]


def test_an_optional_index_is_asked_only_for_queries_it_can_read() -> None:
    index = FakeIndex()
    found = gather(index, "狗在哪里睡觉", 40)
    assert [a[0] for a in index.asked] == ["main", "lexical"]
    assert len(found.dense) == 1 and found.dense[0].languages is None
    index.asked.clear()
    found = gather(index, "where does the dog sleep", 40)
    assert [a[0] for a in index.asked] == ["main", "english", "lexical"]
    assert [d.languages for d in found.dense] == [None, frozenset({"en"})]


def test_a_translation_is_searched_as_segmented_terms() -> None:
    index = FakeIndex()
    translate = lambda q: QueryTranslation({"dog": ("狗",), "sleep": ("睡觉",), "the": ()})  # noqa: E731
    found = gather(index, "the dog sleeps", 40, translate=translate)
    [terms] = [a[1] for a in index.asked if a[0] == "terms"]
    assert "狗" in terms and "睡觉" in terms
    assert [p.id for p in found.translated] == ["zh1"]
    assert found.translation == {"dog": ("狗",), "sleep": ("睡觉",), "the": ()}
    # Nothing to translate: no second query.
    index.asked.clear()
    found = gather(index, "the dog sleeps", 40, translate=lambda q: QueryTranslation({"dog": ()}))
    assert not [a for a in index.asked if a[0] == "terms"] and found.translated == []


def test_the_translated_search_runs_beside_the_own_words_search() -> None:
    index = FakeIndex()
    pool = ThreadPoolExecutor(max_workers=3)

    def submit(fn, *args):
        index.asked.append(("submitted", getattr(fn, "__name__", "") or fn.args[0]))  # dense: a partial
        return pool.submit(fn, *args)

    translate = lambda q: QueryTranslation({"dog": ("狗",)})  # noqa: E731
    try:
        found = gather(index, "the dog sleeps", 40, submit, translate)
    finally:
        pool.shutdown()
    # Every search but the one for the query's own words went to the executor before that one ran.
    submitted = [a[1] for a in index.asked if a[0] == "submitted"]
    assert submitted == ["main", "english", "lexical_search_terms"]
    first_own = [a[0] for a in index.asked].index("lexical")
    assert all(i < first_own for i, a in enumerate(index.asked) if a[0] == "submitted")
    assert [p.id for p in found.translated] == ["zh1"] and [p.id for p in found.lexical] == ["en1"]


def test_searches_past_the_room_beside_run_here_after_the_own_words_search() -> None:
    """With one job beside the caller (a two-core machine), the base's dense index goes to the
    executor and the English index and the translated search run here, after the lexical one,
    and a failure among them is still read where the lists are collected."""
    index = FakeIndex()
    pool = ThreadPoolExecutor(max_workers=1)

    def submit(fn, *args):
        index.asked.append(("submitted", getattr(fn, "__name__", "") or fn.args[0]))
        return pool.submit(fn, *args)

    translate = lambda q: QueryTranslation({"dog": ("狗",)})  # noqa: E731
    try:
        found = gather(index, "the dog sleeps", 40, submit, translate, beside=1)
        here = [a[0] for a in index.asked if a[0] != "main"]  # "main" runs in the pool: any time
        assert here == ["submitted", "lexical", "english", "terms"]
        assert [a[1] for a in index.asked if a[0] == "submitted"] == ["main"]
        assert [len(d.passages) for d in found.dense] == [2, 2]
        assert [p.id for p in found.translated] == ["zh1"]

        def broken(query: str, k: int) -> list[Passage]:
            raise RuntimeError("English index unreachable")

        index.dense_indexes = lambda: [  # type: ignore[method-assign]
            DenseIndex(None, partial(index.dense, "main")),
            DenseIndex(frozenset({"en"}), broken, optional=True, name="minilm"),
        ]
        notices: list[str] = []
        found = gather(index, "the dog sleeps", 40, submit, beside=1, notices=notices)
        assert len(found.dense) == 1 and "English index unreachable" in notices[0]
    finally:
        pool.shutdown()


def test_a_failing_search_is_raised_where_the_lists_are_collected() -> None:
    def broken(query: str, k: int) -> list[Passage]:
        raise RuntimeError("vectors unreachable")

    for pool in (None, ThreadPoolExecutor(max_workers=2)):
        index = FakeIndex()
        index.dense_indexes = lambda: [DenseIndex(None, broken)]  # type: ignore[method-assign]
        try:
            with pytest.raises(RuntimeError, match="vectors unreachable"):
                gather(index, "dog", 40, pool.submit if pool else None)
        finally:
            if pool:
                pool.shutdown()
        # With or without an executor, the query's own words were searched before the error.
        assert ("lexical", "dog", 40) in index.asked


def test_feedback_asks_again_with_the_query_expanded_by_its_best_hits() -> None:
    index = FakeIndex()
    found = gather(index, "dog", 40, feedback=True)
    [terms] = [a[1] for a in index.asked if a[0] == "terms"]
    assert "dog" in terms and "kennel" in terms
    assert found.lexical == index.translated  # the expanded query's hits replace the first list


def test_rm3_keeps_the_query_and_weighs_expansion_terms_by_repeats() -> None:
    feedback = [(["flow", "wing", "wing", "the", "12"], 3.0), (["wing", "flap"], 1.0)]
    terms = expanded_terms(["wing", "lift"], feedback)
    assert terms.count("wing") == REPEATS  # in the query and the commonest feedback term
    assert 1 <= terms.count("lift") < REPEATS and "flow" in terms
    assert "the" not in terms and "12" not in terms  # stopwords and numbers never expand
    assert expanded_terms([], feedback) == []
    assert sorted(set(expanded_terms(["wing"], []))) == ["wing"]


def test_rank_fuses_collapses_and_caps_per_document() -> None:
    same = "Mallard ducks migrate south in the autumn."
    candidates = Candidates(
        lexical=[
            Passage("a", same, 5.0, {"source": "/ducks"}),
            Passage("b", same + " ", 4.0, {"source": "/copy"}),  # a near-duplicate
            Passage("c", "Owls hunt at night.", 1.0, {"source": "/owls"}),
        ],
        dense=[DenseList([Passage("c", "Owls hunt at night.", 0.9, {"source": "/owls"})], None)],
    )
    shown = rank("ducks migrate", candidates, 5)
    assert [r.passage.id for r in shown] == ["a", "c"] or [r.passage.id for r in shown] == ["c", "a"]
    assert [r.score for r in shown] == sorted((r.score for r in shown), reverse=True)
    plain = rank("ducks migrate", candidates, 5, RetrievalOptions(adaptive_fusion=False))
    assert {r.passage.id for r in plain} == {"a", "c"}


def test_kb_retriever_search_is_gather_then_rank(open_kb, tmp_path) -> None:
    from assistant.retrieval import KBRetriever
    from ingest import sync

    from corpus import english, write_files

    folder = write_files(tmp_path / "docs", {"ducks.md": english("ducks"), "owls.md": english("owls")})
    kb = open_kb("rank")
    sync(kb, folder)
    retriever = KBRetriever(kb)
    try:
        for query in ("how do ducks migrate", "猫头鹰在夜里捕猎吗"):
            expected = rank(query, retriever.candidates(query, 4), 4, retriever.options)
            assert [s.chunk_id for s in retriever.search(query, 4)] == [r.passage.id for r in expected]
    finally:
        retriever.close()
