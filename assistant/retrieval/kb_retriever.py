"""Hybrid retrieval over one knowledge base: dense (Chroma) + lexical (FTS5), ranked by
`ranking.rank`.

A base with an English index (vectorstore.kb) has two dense lists: the query is embedded for
each index at once, in parallel with the lexical query, and for the English one only when the
query is one its embedder can read (decided from the query's language before anything of the
English index is loaded).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from vectorstore import KnowledgeBase
from vectorstore.kb import ENGLISH_LANGUAGES
from vectorstore.lookup_table import cache_folder

from .candidates import Candidates, DenseIndex, Hit, gather
from .dictionary import dictionary, translator
from .failures import GuardedReranker
from .ranking import RankedPassage, RetrievalOptions, rank
from .rerank import CrossEncoderReranker
from .sources import Source, kb_location

__all__ = ["KBRetriever", "RetrievalOptions"]


def spare_cores(most: int) -> int:
    """The cores this process may use beside the calling thread's, from 1 to `most`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 2
    return max(1, min(most, cores - 1))


class _BaseIndex:
    """A knowledge base as a `CandidateIndex`."""

    def __init__(self, kb: KnowledgeBase, vector: Sequence[float] | None) -> None:
        self.kb, self.vector = kb, vector

    def lexical_search(self, query: str, k: int) -> Sequence[Hit]:
        return self.kb.lexical_search(query, k)

    def lexical_search_terms(self, terms: Sequence[str], k: int) -> Sequence[Hit]:
        return self.kb.lexical_search_terms(terms, k)

    def lexical_tokens(self, ids: Sequence[str]) -> Mapping[str, Sequence[str]]:
        return self.kb.lexical_tokens(ids)

    def dense_indexes(self) -> list[DenseIndex]:
        search = partial(self.kb.dense_search, vector=self.vector)
        indexes = [DenseIndex(self._languages(), search, name=self.kb.embedder_id)]
        english = self.kb.english_embedder
        if english is not None:
            indexes.append(
                DenseIndex(ENGLISH_LANGUAGES, self.kb.english_search, optional=True, name=english.id)
            )
        return indexes

    def _languages(self) -> frozenset[str] | None:
        try:
            return self.kb.embedder.languages
        except Exception:  # an embedder that cannot be made: its search fails and says why
            return None


class KBRetriever:
    def __init__(
        self,
        kb: KnowledgeBase,
        options: RetrievalOptions | None = None,
        reranker: CrossEncoderReranker | None = None,
    ) -> None:
        self.kb = kb
        self.options = options or RetrievalOptions()
        self.reranker = reranker
        # Up to one worker per dense index and one for the translated keyword search, but no more
        # than the cores beside the caller's: query embeddings, HNSW searches and the second FTS
        # query overlap the first (SQLite and the models release Python's lock while they work);
        # past the cores, they only share them (candidates._Jobs).
        self._beside = spare_cores(3)
        self._pool = ThreadPoolExecutor(max_workers=self._beside, thread_name_prefix="retrieval")
        # Without a cache folder to read a query's entries from (dictionary.dictionary_for), the
        # whole dictionary loads in the background (about a second) while the rest starts up.
        whole = self.options.cross_lingual and cache_folder() is None
        self._dictionary = self._pool.submit(dictionary) if whole else None

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    def candidates(
        self,
        query: str,
        k: int = 6,
        *,
        vector: Sequence[float] | None = None,
        notices: list[str] | None = None,
    ) -> Candidates:
        """Every retriever's candidates for `query` (what `search` ranks). With `notices`, a
        dense index that fails costs only its list and is said there (see candidates.gather)."""
        depth = max(self.options.depth, 2 * k)
        translate = None
        if self.options.cross_lingual:
            translate = translator(self._dictionary.result if self._dictionary is not None else None)
        return gather(
            _BaseIndex(self.kb, vector),
            query,
            depth,
            self._pool.submit,
            translate,
            feedback=self.options.feedback,
            notices=notices,
            beside=self._beside,
        )

    def search(
        self,
        query: str,
        k: int = 6,
        *,
        vector: Sequence[float] | None = None,
        notices: list[str] | None = None,
    ) -> list[Source]:
        """The `k` best passages for `query`, best first (labels are assigned by the caller).
        `vector`: the query already embedded by the base's embedder (not embedded again).
        `notices`: where an embedder or a reranker that fails is said (the search then ranks
        without it); without it, such a failure is raised."""
        found = self.candidates(query, k, vector=vector, notices=notices)
        reranker = self.reranker
        if reranker is not None and notices is not None:
            reranker = GuardedReranker(reranker, getattr(reranker, "model", type(reranker).__name__), notices)
        ranked = rank(query, found, k, self.options, reranker)
        return [_source(r, self.kb.display_path(str(r.passage.metadata.get("source", "")))) for r in ranked]


def _source(ranked: RankedPassage, path: str = "") -> Source:
    hit = ranked.passage
    meta = hit.metadata
    return Source(
        kind="kb",
        title=str(meta.get("title", "")),
        location=kb_location(dict(meta)),
        text=hit.text,
        score=ranked.score,
        chunk_id=hit.id,
        uri=str(meta.get("source", "")),
        page=meta.get("page"),
        heading=str(meta.get("heading", "")),
        extra={"ocr": True} if meta.get("ocr") else {},
        path=path,
    )
