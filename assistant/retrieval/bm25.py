"""Okapi BM25 over a handful of passages in memory: how web passages (and the knowledge-base hits
they are merged with) are ranked lexically, with the knowledge base's own segmentation (jieba
words and CJK bigrams, traditional folded to simplified) so both sides are read alike.

The knowledge base's own lexical index is SQLite FTS5 (vectorstore.lexical); building one of those
for a dozen passages per query was all overhead, and reached into the storage layer."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from vectorstore.text import query_terms, segment

from .fusion import Ranked

#: FTS5's defaults, which the knowledge-base side uses too.
K1 = 1.2
B = 0.75
_SUFFIX = re.compile(r"(ing|ed|es|s)$")


def bm25_ranking(query: str, passages: Sequence[tuple[str, str]]) -> list[Ranked]:
    """`passages` as (id, text) ranked by BM25 against `query`, best first; passages that share
    no term with the query are left out."""
    terms = {_stem(t) for t in query_terms(query)}
    if not terms or not passages:
        return []
    docs = [(pid, Counter(_stem(t) for t in segment(text))) for pid, text in passages]
    average = sum(sum(c.values()) for _, c in docs) / len(docs) or 1.0
    frequency = Counter(t for _, counts in docs for t in terms if t in counts)
    n = len(docs)
    ranked = []
    for pid, counts in docs:
        length = sum(counts.values())
        score = 0.0
        for term in terms:
            tf = counts.get(term, 0)
            if not tf:
                continue
            idf = math.log(1 + (n - frequency[term] + 0.5) / (frequency[term] + 0.5))
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
        if score > 0:
            ranked.append(Ranked(pid, score))
    return sorted(ranked, key=lambda r: -r.score)


def _stem(token: str) -> str:
    """A light English stem (ducks ~ duck, searched ~ search), as FTS5's porter tokenizer does
    for the knowledge base; other scripts are left alone."""
    if token.isascii() and token.isalpha() and len(token) > 4:
        return _SUFFIX.sub("", token) if len(_SUFFIX.sub("", token)) >= 3 else token
    return token
