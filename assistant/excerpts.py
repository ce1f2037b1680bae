"""A passage's best sentences for a query, with the query's words marked: what `assistant search`
shows of each passage (as ripgrep shows matching lines with the matches highlighted).

Words are found as the lexical index finds them (vectorstore.text): jieba's words of the query,
stopwords dropped, matched in the passage after the same normalisation (full-width to
half-width, lower case, traditional to simplified Chinese), so 数据安全 finds 數據安全 and
"Duck" finds "ducks". A passage that no word matches (found by meaning alone, or in another
language) shows its opening.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from vectorstore.text import CJK_RE, normalise, query_words

# A sentence ends after Chinese end punctuation, or after . ! ? followed by a space; a line
# break ends one too (headings, list items, table rows).
_SENTENCE_END = re.compile(r"(?<=[。！？；…!?])|(?<=[.!?])(?=\s)|\n+")
_SUFFIXES = ("ing", "ed", "es", "s")


@dataclass(frozen=True)
class Excerpt:
    """One sentence (or a window of a long one) and where the query's words are in it."""

    text: str
    #: (start, end) offsets of each match in `text`, in order, never overlapping.
    matches: tuple[tuple[int, int], ...] = ()
    #: Whether text was cut before or after the window.
    cut_before: bool = False
    cut_after: bool = False


def best_sentences(text: str, query: str, *, limit: int = 2, width: int = 200) -> list[Excerpt]:
    """Up to `limit` sentences of `text` that hold the most of `query`'s words (longer words
    count more), in their order in the passage, each cut to about `width` characters around
    its first match. Without any match: the passage's opening sentence."""
    patterns = _patterns(query)
    spans = _sentences(text)
    if not spans:
        return []
    found = []
    for start, end in spans:
        matches = _matches(text, start, end, patterns)
        found.append((matches, {normalise(text[a:b]) for a, b in matches}))
    chosen = _cover(text, spans, found, limit)
    if not chosen:
        return [_window(text, spans[0][0], spans[0][1], (), width)]
    return [_window(text, *spans[i], found[i][0], width) for i in sorted(chosen)]


def _cover(text: str, spans, found, limit: int) -> list[int]:
    """Greedily, the sentences that add the most query words not yet shown (longer words count
    more; ties: more words in all, then the earlier sentence); never the same sentence twice."""
    chosen: list[int] = []
    covered: set[str] = set()
    seen: set[str] = set()
    while len(chosen) < limit:
        best, best_key = None, (0, 0)
        for i, (_, words) in enumerate(found):
            key = (sum(len(w) for w in words - covered), sum(len(w) for w in words))
            if key[0] > 0 and key > best_key and normalise(text[slice(*spans[i])]) not in seen:
                best, best_key = i, key
        if best is None:
            break
        chosen.append(best)
        covered |= found[best][1]
        seen.add(normalise(text[slice(*spans[best])]))
    return chosen


def _patterns(query: str) -> list[re.Pattern[str]]:
    """One pattern per query word, matched against normalised text."""
    words = query_words(query)
    # A lone Chinese character (写, 诗) would mark half a passage; keep it only when it is all
    # the query has.
    longer = [w for w in words if not (len(w) == 1 and CJK_RE.match(w))]
    words = longer or words
    patterns = []
    for word in sorted(set(words), key=len, reverse=True):
        if CJK_RE.search(word):
            patterns.append(re.compile(re.escape(word)))
        elif len(word) > 1 or word.isdigit():
            stem = _stem(word)
            patterns.append(re.compile(rf"(?<!\w){re.escape(stem)}\w*"))
    return patterns


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank sentence, surrounding spaces excluded."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    trimmed = []
    for a, b in spans:
        piece = text[a:b]
        stripped = piece.strip()
        if stripped:
            a += len(piece) - len(piece.lstrip())
            trimmed.append((a, a + len(stripped)))
    return trimmed


def _normalised(piece: str) -> tuple[str, list[int]]:
    """`piece` normalised as the index normalises text, and for each normalised character the
    offset in `piece` it came from."""
    whole = normalise(piece)
    if len(whole) == len(piece):
        return whole, list(range(len(piece)))
    chars, origin = [], []
    for i, ch in enumerate(piece):  # NFKC changed a length (ligatures, full-width forms)
        folded = normalise(unicodedata.normalize("NFKC", ch)) or ch
        chars.append(folded)
        origin.extend([i] * len(folded))
    return "".join(chars), origin


def _matches(text: str, start: int, end: int, patterns: list[re.Pattern[str]]) -> tuple[tuple[int, int], ...]:
    """Where the patterns match in text[start:end], as offsets into `text`, merged."""
    if not patterns:
        return ()
    folded, origin = _normalised(text[start:end])
    found = []
    for pattern in patterns:
        for m in pattern.finditer(folded):
            if m.end() > m.start():
                found.append((start + origin[m.start()], start + origin[m.end() - 1] + 1))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(found):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return tuple(merged)


def _window(text: str, start: int, end: int, matches: tuple[tuple[int, int], ...], width: int) -> Excerpt:
    """text[start:end] as an Excerpt, cut to about `width` characters around its first match."""
    if end - start > width:
        first = matches[0][0] if matches else start
        lo = max(start, min(first - width // 4, end - width))
        hi = min(end, lo + width)
        cut_before, cut_after = lo > start, hi < end
        start, end = lo, hi
    else:
        cut_before = cut_after = False
    inside = tuple((max(a, start) - start, min(b, end) - start) for a, b in matches if a < end and b > start)
    piece = text[start:end]
    # Whitespace runs (a PDF's line breaks inside a sentence) read as one space; offsets follow.
    squeezed, shift, offsets = [], 0, []
    for i, ch in enumerate(piece):
        offsets.append(i - shift)
        if ch.isspace() and i and piece[i - 1].isspace():
            shift += 1
            continue
        squeezed.append(" " if ch.isspace() else ch)
    offsets.append(len(piece) - shift)
    spans = tuple((offsets[a], offsets[b]) for a, b in inside if offsets[b] > offsets[a])
    return Excerpt("".join(squeezed), spans, cut_before, cut_after)
