"""Hybrid retrieval over one knowledge base: dense (Chroma) + lexical (FTS5), fused, deduplicated."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from vectorstore import KnowledgeBase

from .dedupe import collapse
from .fusion import Ranked, fuse
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
        # One worker for the dense side: the query embedding and HNSW search overlap the FTS query.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dense")

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    def search(self, query: str, k: int = 6) -> list[Source]:
        """The `k` best passages for `query`, best first (labels are assigned by the caller)."""
        depth = max(self.options.depth, 2 * k)
        dense_future = self._pool.submit(self.kb.dense_search, query, depth)
        lexical = self.kb.lexical_search(query, depth)
        dense = dense_future.result()

        hits = {h.id: h for h in lexical}
        hits.update({h.id: h for h in dense})
        fused = fuse(
            [Ranked(h.id, h.score) for h in dense],
            [Ranked(h.id, h.score) for h in lexical],
            query=query,
            embedder_languages=self.kb.embedder.languages,
            dense_texts=[h.text for h in dense],
            adaptive=self.options.adaptive_fusion,
            unembedded={h.id for h in lexical if not h.embedded},
        )
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
        )
