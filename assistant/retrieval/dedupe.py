"""Near-duplicate collapse and per-document diversity for a ranked list of passages."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from vectorstore.text import CJK_RE, normalise

T = TypeVar("T")

_SPACE = re.compile(r"\s+")


_PUNCTUATION = re.compile(r"[^\w\s]+")


def shingles(text: str, n: int = 5) -> set[str]:
    """Character n-grams of the normalised text without punctuation: language-neutral, so Chinese
    works too, and a copy that differs only in commas or quotes is the same text."""
    text = _SPACE.sub(" ", _PUNCTUATION.sub(" ", normalise(text))).strip()
    if len(text) <= n:
        return {text}
    return {text[i : i + n] for i in range(len(text) - n + 1)}


#: Passages shorter than this many weighted characters (a CJK character counts 3, as in the
#: chunker) are a sentence or two.
SHORT = 80


def similarity(a: set[str], b: set[str]) -> float:
    """How much two passages' shingles overlap.

    The overlap coefficient (1.0 when one passage is contained in the other) when both are longer
    than a sentence or two: a paragraph inside another adds nothing. For a short one, the Jaccard
    index: a one-line message inside a longer one ("What are you doing?" in "Mr. Crouch, what are
    you doing?") or one word away from another (禁用/启用基于密码的验证) says something else.
    """
    if not a or not b:
        return 0.0
    shared = len(a & b)
    smaller = min(len(a), len(b))
    if smaller >= SHORT or _weighted(a if len(a) == smaller else b) >= SHORT:
        return shared / smaller
    return shared / len(a | b)


def _weighted(shingles_: set[str]) -> int:
    return sum(3 if CJK_RE.match(sh) else 1 for sh in shingles_)


def collapse(
    items: Sequence[T],
    *,
    text: Callable[[T], str],
    document: Callable[[T], str],
    k: int,
    threshold: float = 0.95,
    per_document: int = 3,
) -> list[T]:
    """Keep the best of each group of near-duplicates and at most `per_document` passages from
    one document, in rank order; if that leaves fewer than `k`, refill from the capped ones."""
    kept: list[T] = []
    kept_shingles: list[set[str]] = []
    overflow: list[tuple[T, set[str]]] = []
    per_doc: dict[str, int] = {}
    for item in items:
        sh = shingles(text(item))
        if any(similarity(sh, other) >= threshold for other in kept_shingles):
            continue
        doc = document(item)
        if per_doc.get(doc, 0) >= per_document:
            overflow.append((item, sh))
            continue
        per_doc[doc] = per_doc.get(doc, 0) + 1
        kept.append(item)
        kept_shingles.append(sh)
        if len(kept) >= k:
            return kept
    for item, sh in overflow:
        if len(kept) >= k:
            break
        # A capped passage may duplicate one kept after it was set aside.
        if any(similarity(sh, other) >= threshold for other in kept_shingles):
            continue
        kept.append(item)
        kept_shingles.append(sh)
    return kept
