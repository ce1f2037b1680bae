"""Hybrid retrieval over one knowledge base: dense (Chroma) + lexical (FTS5), fused, deduplicated.

A base with an English index (vectorstore.kb) has two dense lists: the query is embedded for
each index at once, in parallel with the lexical query, and for the English one only when the
query is one its embedder can read.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from vectorstore import KnowledgeBase

from .dedupe import collapse
from .fusion import Ranked, fuse_evidence, hybrid_evidence, language_coverage, weighted_rrf
from .rerank import CrossEncoderReranker
from .sources import Source, kb_location


@dataclass(frozen=True)
class RetrievalOptions:
    #: Candidates taken from each retriever before fusion.
    depth: int = 40
    #: At most this many passages from one document (unless nothing else is left).
    per_document: int = 3
    #: Passages at least this similar (character 5-gram overlap) count as duplicates.
    duplicate_threshold: float = 0.8
    #: How many fused candidates a reranker, if any, looks at.
    rerank_depth: int = 20
    #: False: plain reciprocal rank fusion (for comparison).
    adaptive_fusion: bool = True


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
        # One worker per dense index: query embeddings and HNSW searches overlap the FTS query.
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dense")

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    def search(self, query: str, k: int = 6, *, vector: Sequence[float] | None = None) -> list[Source]:
        """The `k` best passages for `query`, best first (labels are assigned by the caller).
        `vector`: the query already embedded by the base's embedder (not embedded again)."""
        depth = max(self.options.depth, 2 * k)
        english = self.kb.english_embedder
        searches = [(partial(self.kb.dense_search, vector=vector), self.kb.embedder.languages)]
        if english is not None and language_coverage(query, english.get().languages):
            searches.append((self.kb.english_search, english.get().languages))
        futures = [(self._pool.submit(search, query, depth), languages) for search, languages in searches]
        lexical = self.kb.lexical_search(query, depth)
        dense = [(future.result(), languages) for future, languages in futures]

        hits = {h.id: h for h in lexical}
        for found, _ in dense:
            hits.update({h.id: h for h in found})
        lexical_ranked = [Ranked(h.id, h.score) for h in lexical]
        dense_ranked = [([Ranked(h.id, h.score) for h in found], languages) for found, languages in dense]
        if self.options.adaptive_fusion:
            evidence = hybrid_evidence(
                query,
                [
                    (ranked, languages, [hits[r.id].text for r in ranked])
                    for ranked, languages in dense_ranked
                ],
                lexical_ranked,
                [h.text for h in lexical],
                unembedded={h.id for h in lexical if not h.embedded},
            )
            fused = fuse_evidence(evidence)
        else:
            fused = weighted_rrf([(ranked, 1.0) for ranked, _ in dense_ranked] + [(lexical_ranked, 1.0)])
        if self.reranker is not None:
            head = fused[: self.options.rerank_depth]
            scores = self.reranker.scores(query, [hits[r.id].text for r in head])
            reranked = sorted(zip(head, scores, strict=True), key=lambda pair: -pair[1])
            fused = [Ranked(r.id, s) for r, s in reranked] + fused[len(head) :]

        best = collapse(
            fused,
            text=lambda r: hits[r.id].text,
            document=lambda r: str(hits[r.id].metadata.get("source", r.id)),
            k=k,
            threshold=self.options.duplicate_threshold,
            per_document=self.options.per_document,
        )
        return [self._source(hits[r.id], r.score) for r in best]

    def _source(self, hit, score: float) -> Source:
        meta = hit.metadata
        return Source(
            kind="kb",
            title=str(meta.get("title", "")),
            location=kb_location(meta),
            text=hit.text,
            score=score,
            chunk_id=hit.id,
            uri=str(meta.get("source", "")),
            page=meta.get("page"),
            heading=str(meta.get("heading", "")),
            extra={"ocr": True} if meta.get("ocr") else {},
            path=self.kb.display_path(str(meta.get("source", ""))),
        )
