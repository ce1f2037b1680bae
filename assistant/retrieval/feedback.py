"""Pseudo-relevance feedback for the lexical side (RM3, as Lavrenko & Croft's relevance model with
the original query mixed back in, Anserini's defaults: 10 feedback passages, 10 terms, 0.5).

The lexical list's best passages are taken as relevant; the words they share, weighted by how
much of each passage they make up and by how well the passage matched, are added to the query,
and the index is asked again. FTS5 has no per-term weights, so a weight is given by repeating a
term (its BM25 contribution adds up once per repeat).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from vectorstore.text import STOPWORDS

#: Feedback passages, expansion terms, the original query's share, and the largest repeat count.
PASSAGES = 10
TERMS = 10
ORIGINAL_WEIGHT = 0.5
REPEATS = 4


def expanded_terms(terms: Sequence[str], feedback: Sequence[tuple[Sequence[str], float]]) -> list[str]:
    """The query `terms` and up to TERMS expansion terms, each repeated in proportion to its RM3
    weight (the heaviest REPEATS times). `feedback`: the tokens and lexical score of each of the
    best passages, best first."""
    query = list(dict.fromkeys(terms))
    if not query:
        return []
    passages = [(tokens, score) for tokens, score in feedback[:PASSAGES] if tokens and score > 0]
    total = sum(score for _, score in passages)
    model: Counter[str] = Counter()
    for tokens, score in passages:
        counts = Counter(t for t in tokens if _useful(t))
        length = sum(counts.values()) or 1
        for term, count in counts.items():
            model[term] += (score / total) * count / length
    # The relevance model's strongest terms (query terms among them), mixed with the query.
    expansion = model.most_common(TERMS)
    mass = sum(w for _, w in expansion)
    weights = {t: ORIGINAL_WEIGHT / len(query) for t in query}
    for term, weight in expansion:
        weights[term] = weights.get(term, 0.0) + (1 - ORIGINAL_WEIGHT) * weight / mass
    top = max(weights.values())
    out: list[str] = []
    for term, weight in weights.items():
        out += [term] * round(REPEATS * weight / top)
    return out


def _useful(token: str) -> bool:
    return token not in STOPWORDS and not token.isdigit() and (len(token) > 2 or not token.isascii())
