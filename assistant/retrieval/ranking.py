"""The knowledge-base ranker: one pure function from a query and its candidate lists to the
passages shown, best first. `KBRetriever` and the benchmarks both call it.

Steps: adaptive fusion of the lists (assistant.retrieval.fusion; plain RRF when asked), an
optional cross-encoder over the head, then near-duplicate collapse and a per-document cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .candidates import Candidates, Passage
from .dedupe import collapse
from .fusion import Ranked, fuse_evidence, hybrid_evidence, weighted_rrf


@dataclass(frozen=True)
class RetrievalOptions:
    #: Candidates taken from each retriever before fusion.
    depth: int = 40
    #: At most this many passages from one document (unless nothing else is left).
    per_document: int = 3
    #: Passages at least this similar (character 5-gram overlap) count as duplicates.
    duplicate_threshold: float = 0.95
    #: How many fused candidates a reranker, if any, looks at.
    rerank_depth: int = 20
    #: False: plain reciprocal rank fusion (for comparison).
    adaptive_fusion: bool = True
    #: Also search the lexical index with the query's words translated (CC-CEDICT), so that an
    #: English question finds Chinese passages by their words and the reverse.
    cross_lingual: bool = True
    #: Expand the lexical query with terms of its best hits (RM3 pseudo-relevance feedback).
    feedback: bool = False


class Reranker(Protocol):
    def scores(self, query: str, passages: Sequence[str]) -> list[float]: ...


@dataclass(frozen=True)
class RankedPassage:
    passage: Passage
    score: float


def rank(
    query: str,
    candidates: Candidates,
    k: int,
    options: RetrievalOptions | None = None,
    reranker: Reranker | None = None,
) -> list[RankedPassage]:
    """The `k` best passages of `candidates` for `query`, best first."""
    options = options or RetrievalOptions()
    passages = _by_id(candidates)
    fused = fuse_candidates(query, candidates, adaptive=options.adaptive_fusion)
    if reranker is not None:
        head = fused[: options.rerank_depth]
        scores = reranker.scores(query, [passages[r.id].text for r in head])
        reranked = sorted(zip(head, scores, strict=True), key=lambda pair: -pair[1])
        fused = [Ranked(r.id, s) for r, s in reranked] + fused[len(head) :]
    best = collapse(
        fused,
        text=lambda r: passages[r.id].text,
        document=lambda r: str(passages[r.id].metadata.get("source", r.id)),
        k=k,
        threshold=options.duplicate_threshold,
        per_document=options.per_document,
    )
    return [RankedPassage(passages[r.id], r.score) for r in best]


def fuse_candidates(query: str, candidates: Candidates, *, adaptive: bool = True) -> list[Ranked]:
    """All candidates in one fused order (before reranking and collapse)."""
    lexical = [Ranked(p.id, p.score) for p in candidates.lexical]
    dense = [[Ranked(p.id, p.score) for p in d.passages] for d in candidates.dense]
    if not adaptive:
        translated = [Ranked(p.id, p.score) for p in candidates.translated]
        return weighted_rrf([(ranked, 1.0) for ranked in dense] + [(lexical, 1.0), (translated, 1.0)])
    evidence = hybrid_evidence(
        query,
        [
            (ranked, d.languages, [p.text for p in d.passages])
            for ranked, d in zip(dense, candidates.dense, strict=True)
        ],
        lexical,
        [p.text for p in candidates.lexical],
        unembedded={p.id for p in candidates.lexical if not p.embedded},
        translated=[Ranked(p.id, p.score) for p in candidates.translated],
        translated_texts=[p.text for p in candidates.translated],
        translation=candidates.translation,
    )
    return fuse_evidence(evidence)


def _by_id(candidates: Candidates) -> dict[str, Passage]:
    passages = {p.id: p for p in candidates.translated}
    passages.update({p.id: p for p in candidates.lexical})
    for d in candidates.dense:
        passages.update({p.id: p for p in d.passages})
    return passages
