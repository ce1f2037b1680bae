"""Fusing a dense and a lexical ranking into one.

Plain reciprocal rank fusion (RRF) trusts both lists equally. When one retriever is weak for a
query, that hurts: an English-only embedder on a Chinese query ranks nearly at random, and equal
weight lets its noise push good lexical matches down (on CMRC 2018 naive RRF of all-MiniLM with
BM25 loses about a third of BM25's recall@5; see benchmarks/RESULTS.md).

So each list is weighted per query by how much it can be trusted:
- a prior: does the embedder cover the query's language at all (`language_coverage`);
- the list's own confidence: how far its best score stands out from the rest. A retriever that
  found something has a peaked score distribution; one that is guessing has a flat one.
Weighted RRF then combines ranks: robust to the two lists' incomparable score scales.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vectorstore.text import CJK_RE

RRF_K = 60


@dataclass(frozen=True)
class Ranked:
    id: str
    score: float


def language_coverage(query: str, embedder_languages: frozenset[str] | None) -> float:
    """1.0 when the embedder was trained on the query's script, else near zero.

    `embedder_languages` None means multilingual (or unknown: assume it covers everything).
    """
    if embedder_languages is None:
        return 1.0
    cjk = len(CJK_RE.findall(query))
    letters = sum(ch.isalpha() for ch in query) or 1
    share_cjk = cjk / letters
    covers_cjk = bool(embedder_languages & {"zh", "ja", "ko"})
    if share_cjk > 0.3 and not covers_cjk:
        return 0.05
    return 1.0


def peak_confidence(scores: Sequence[float]) -> float:
    """How much the top score stands out: (top - mean of the rest) / spread, squashed to 0..1."""
    if not scores:
        return 0.0
    if len(scores) == 1:
        return 1.0
    top, rest = scores[0], scores[1:]
    mean_rest = sum(rest) / len(rest)
    spread = max(top - min(scores), 1e-9)
    return max(0.0, min(1.0, (top - mean_rest) / spread))


def weighted_rrf(lists: Sequence[tuple[Sequence[Ranked], float]], k: int = RRF_K) -> list[Ranked]:
    """Reciprocal rank fusion with one weight per list; ties keep first-seen order."""
    fused: dict[str, float] = {}
    for ranked, weight in lists:
        if weight <= 0:
            continue
        for rank, item in enumerate(ranked):
            fused[item.id] = fused.get(item.id, 0.0) + weight / (k + rank + 1)
    return [Ranked(i, s) for i, s in sorted(fused.items(), key=lambda kv: -kv[1])]


def fuse(
    dense: Sequence[Ranked],
    lexical: Sequence[Ranked],
    *,
    query: str,
    embedder_languages: frozenset[str] | None,
    adaptive: bool = True,
) -> list[Ranked]:
    """One ranking from the dense and lexical ones; `adaptive=False` is plain RRF."""
    if not adaptive:
        return weighted_rrf([(dense, 1.0), (lexical, 1.0)])
    w_dense = language_coverage(query, embedder_languages) * (0.5 + peak_confidence([r.score for r in dense]))
    w_lex = 0.5 + peak_confidence([r.score for r in lexical])
    return weighted_rrf([(dense, w_dense), (lexical, w_lex)])
