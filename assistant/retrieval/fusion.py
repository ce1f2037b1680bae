"""Fusing a dense and a lexical ranking into one.

Plain reciprocal rank fusion (RRF) trusts both lists equally. When one retriever is weak for a
query, that hurts: an English-only embedder on Chinese text ranks nearly at random, and equal
weight lets its noise push good lexical matches down (on CMRC 2018, naive RRF of all-MiniLM with
BM25 loses a quarter of BM25's recall@5: benchmarks/RESULTS.md).

So we fuse scores, not ranks, after putting them on one scale, and only from a retriever that
can read the text:
- each list's scores become z-scores against the rest of that list (top excluded), so a
  retriever that found something clearly (a peaked distribution) speaks loudly, and one that is
  guessing (a flat distribution) barely moves the ranking;
- the dense list takes part only when the embedder covers the language of the query and of the
  passages it returned (`language_coverage`); an English-only model on Chinese is left out.
The fused score of a passage is the sum of its z-scores; a passage missing from one list counts
as below that list's last entry, except a passage that has no vector yet (a base still being
embedded): the dense list could not see it, so it counts as level with the dense top, and a
missing vector never ranks it below a passage it could have beaten with its vector. On CMRC
2018 this is at least as good as the better input on every metric, with both a multilingual and
an English-only embedder.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from statistics import fmean, pstdev

from vectorstore.text import CJK_RE

RRF_K = 60


@dataclass(frozen=True)
class Ranked:
    id: str
    score: float


def _cjk_share(text: str) -> float:
    letters = sum(ch.isalpha() for ch in text)
    return len(CJK_RE.findall(text)) / letters if letters else 0.0


def language_coverage(
    query: str, embedder_languages: frozenset[str] | None, passages: Sequence[str] = ()
) -> float:
    """1.0 if the embedder can read the query and the passages it returned, else 0.0.

    `embedder_languages` None means multilingual (or unknown: assume it covers everything).
    """
    if embedder_languages is None or embedder_languages & {"zh", "ja", "ko"}:
        return 1.0
    sample = " ".join(p[:200] for p in passages[:5])
    if _cjk_share(query) > 0.3 or (sample and _cjk_share(sample) > 0.3):
        return 0.0
    return 1.0


def zscores(ranked: Sequence[Ranked]) -> dict[str, float]:
    """Each score's distance from the mean of the list's other entries, in their standard deviations."""
    if not ranked:
        return {}
    if len(ranked) == 1:
        return {ranked[0].id: 1.0}
    rest = [r.score for r in ranked[1:]]
    mean = fmean(rest)
    # With one other entry (or all others equal) the spread is unknown: measure in units of the
    # top's lead, so the top scores 1 as in a one-entry list, instead of dividing by almost zero.
    spread = pstdev(rest) or abs(ranked[0].score - mean) or 1.0
    return {r.id: (r.score - mean) / spread for r in ranked}


def weighted_rrf(lists: Sequence[tuple[Sequence[Ranked], float]], k: int = RRF_K) -> list[Ranked]:
    """Reciprocal rank fusion with one weight per list (plain RRF with all weights 1)."""
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
    dense_texts: Sequence[str] = (),
    adaptive: bool = True,
    unembedded: Collection[str] = (),
) -> list[Ranked]:
    """One ranking from the dense and lexical ones; `adaptive=False` gives plain RRF.

    `unembedded`: ids of lexical hits whose vectors are not stored yet (dense retrieval could
    not see them), which a missing dense score must not push down.
    """
    if not adaptive:
        return weighted_rrf([(dense, 1.0), (lexical, 1.0)])
    lists = [zscores(lexical)]
    if language_coverage(query, embedder_languages, dense_texts):
        dense_z = zscores(dense)
        if dense_z:
            top = max(dense_z.values())
            dense_z = {i: top for i in unembedded} | dense_z
        lists.append(dense_z)
    order: dict[str, int] = {}
    for ranked in (lexical, dense):
        for r in ranked:
            order.setdefault(r.id, len(order))
    floors = [min(z.values(), default=0.0) - 1.0 for z in lists]
    fused = {i: sum(z.get(i, floor) for z, floor in zip(lists, floors, strict=True)) for i in order}
    # Ties (rare) keep lexical-then-dense first-seen order, so results are deterministic.
    return [Ranked(i, s) for i, s in sorted(fused.items(), key=lambda kv: (-kv[1], order[kv[0]]))]
