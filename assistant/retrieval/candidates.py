"""What the ranker ranks: each retriever's candidate passages for one query.

`gather` asks an index for them (the lexical list and each dense list, dense searches in
parallel with the lexical one). Anything that speaks `CandidateIndex` can be asked: a knowledge
base (`KBRetriever`) or the benchmarks' in-memory indexes over a dev set, so that both rank
exactly the same inputs the same way (`ranking.rank`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from vectorstore.text import query_terms

from .dictionary import QueryTranslation
from .failures import dense_failure, describe
from .feedback import PASSAGES, expanded_terms
from .fusion import language_coverage


@dataclass(frozen=True)
class Passage:
    """One retriever's hit: a chunk, its text and metadata, and that retriever's score."""

    id: str
    text: str
    score: float
    metadata: Mapping[str, Any] = field(default_factory=dict)
    #: False while the chunk's vector is not stored yet (dense retrieval cannot see it).
    embedded: bool = True


@dataclass(frozen=True)
class DenseList:
    """One dense index's hits and the languages its embedder reads (None: all)."""

    passages: Sequence[Passage]
    languages: frozenset[str] | None


@dataclass(frozen=True)
class Candidates:
    """Every list the ranker fuses for one query."""

    lexical: Sequence[Passage]
    dense: Sequence[DenseList] = ()
    #: The lexical index's hits for the query's words in the other language, and those words.
    translated: Sequence[Passage] = ()
    translation: Mapping[str, Sequence[str]] = field(default_factory=dict)


class Hit(Protocol):
    id: str
    text: str
    metadata: Mapping[str, Any]
    score: float


@dataclass(frozen=True)
class DenseIndex:
    """A dense index as the gatherer sees it: what it reads and how to search it.

    `optional`: searched only for queries its embedder can read (the English index); the
    base's own index is always searched.
    """

    languages: frozenset[str] | None
    search: Callable[[str, int], Sequence[Hit]]
    optional: bool = False
    #: What a notice calls it when it fails (its embedder's id).
    name: str = "dense index"


class CandidateIndex(Protocol):
    def lexical_search(self, query: str, k: int) -> Sequence[Hit]: ...

    def lexical_search_terms(self, terms: Sequence[str], k: int) -> Sequence[Hit]: ...

    def lexical_tokens(self, ids: Sequence[str]) -> Mapping[str, Sequence[str]]: ...

    def dense_indexes(self) -> Sequence[DenseIndex]: ...


Submit = Callable[..., Future]
#: A query's words in the other language (assistant.retrieval.dictionary.translator).
Translate = Callable[[str], QueryTranslation]


def gather(
    index: CandidateIndex,
    query: str,
    depth: int,
    submit: Submit | None = None,
    translate: Translate | None = None,
    *,
    feedback: bool = False,
    notices: list[str] | None = None,
    beside: int | None = None,
) -> Candidates:
    """Each retriever's `depth` best passages for `query`.

    An optional dense index whose embedder cannot read the query's language is never asked (nor
    its model loaded). With `translate`, the lexical index is also asked for the query's words in
    the other language; with `feedback`, the lexical list is that of the query expanded by its
    best hits (RM3). `submit` (an executor's) runs the dense searches and the translated one
    beside the search for the query's own words: the first `beside` of them (default all), the
    base's own dense index first; the rest run here after that search. A dense index that fails
    (its embedder gone or broken, its vectors unreachable) costs only its own list, and a
    dictionary that cannot be read only the translations, each with a line in `notices`
    (without `notices`, the error is raised).
    """
    jobs = _Jobs(submit, beside)
    wanted = [d for d in index.dense_indexes() if not d.optional or language_coverage(query, d.languages)]
    pending = [(d, jobs.start(d.search, query, depth)) for d in wanted]
    translation = _translated(translate, query, notices) if translate is not None else None
    translated: Future | None = None
    if translation:
        terms = list(dict.fromkeys(t for term in translation.terms for t in query_terms(term)))
        translated = jobs.start(index.lexical_search_terms, terms, depth)
    lexical = [_passage(h) for h in index.lexical_search(query, depth)]
    if feedback and lexical:
        lexical = _with_feedback(index, query, lexical, depth)
    jobs.run_waiting()
    dense = _dense_lists(pending, notices)
    found = [_passage(h) for h in translated.result()] if translated is not None else []
    words = translation.words if translation else {}
    return Candidates(lexical, dense, found, words)


def _translated(translate: Translate, query: str, notices: list[str] | None) -> QueryTranslation | None:
    try:
        return translate(query)
    except Exception as exc:  # the dictionary cannot be read: the query's own words still search
        if notices is None:
            raise
        notices.append(f"the dictionary (CC-CEDICT) failed: {describe(exc)}; searched without translations")
        return None


def _dense_lists(pending: list[tuple[DenseIndex, Future]], notices: list[str] | None) -> list[DenseList]:
    lists, failed = [], []
    for index, future in pending:
        try:
            lists.append(DenseList([_passage(h) for h in future.result()], index.languages))
        except Exception as exc:
            if notices is None:
                raise
            failed.append(dense_failure(index.name, exc))
    for line in dict.fromkeys(failed):  # both indexes of a base on one stopped server: said once
        notices.append(f"{line}; {'ranked without it' if lists else 'ranked by words alone'}")
    return lists


def _with_feedback(index: CandidateIndex, query: str, lexical: list[Passage], depth: int) -> list[Passage]:
    best = lexical[:PASSAGES]
    tokens = index.lexical_tokens([p.id for p in best])
    terms = expanded_terms(query_terms(query), [(tokens.get(p.id, ()), p.score) for p in best])
    return [_passage(h) for h in index.lexical_search_terms(terms, depth)] or lexical


def _passage(hit: Hit) -> Passage:
    return Passage(hit.id, hit.text, hit.score, hit.metadata, bool(getattr(hit, "embedded", True)))


class _Jobs:
    """A query's searches beside its lexical one: each started by `submit` while there is room
    (`beside` of them at most; None: no limit), else kept for the caller to run after its own
    search (`run_waiting`), or run here and now without `submit`. Either way a job's error is
    raised by its future's `result()`, where the caller reads it.

    The room matters on a machine with few cores: an English query on two cores has four
    searches (e5, MiniLM, two FTS queries), and four threads shared the cores evenly, so e5's
    query embedding, the longest, took 40 ms of wall time for its 30 ms of work. With one job
    beside the caller (KBRetriever gives one per spare core), e5 has a core of its own and the
    rest run one after another on the other."""

    def __init__(self, submit: Submit | None, beside: int | None) -> None:
        self._submit, self._room = submit, beside
        self._waiting: list[tuple[Future, Callable[..., Any], tuple[Any, ...]]] = []

    def start(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        if self._submit is None:
            _settle(future, fn, args)
        elif self._room is None or self._room > 0:
            if self._room is not None:
                self._room -= 1
            return self._submit(fn, *args)
        else:
            self._waiting.append((future, fn, args))
        return future

    def run_waiting(self) -> None:
        for future, fn, args in self._waiting:
            _settle(future, fn, args)
        self._waiting.clear()


def _settle(future: Future, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        future.set_result(fn(*args))
    except Exception as exc:
        future.set_exception(exc)
