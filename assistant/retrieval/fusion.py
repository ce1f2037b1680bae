"""Fusing dense and lexical rankings into one.

Plain reciprocal rank fusion (RRF) trusts every list equally. When one retriever is weak for a
query, that hurts: an English-only embedder on Chinese text ranks nearly at random, and BM25 is
blind across languages, yet equal weight lets either one's noise push good matches down (plain
RRF of all-MiniLM with BM25 loses a quarter of BM25's recall@5 on CMRC 2018, and plain RRF of the
multilingual embedder with BM25 falls to 0.41 recall@1 on English questions over Chinese
sentences: benchmarks/RESULTS.md).

So we fuse scores, not ranks, after putting them on one scale, each weighted by the evidence
that its retriever could read the query at all:
- each list's scores become z-scores against the rest of that list (top excluded), so a
  retriever that found something clearly (a peaked distribution) speaks loudly, and one that is
  guessing (a flat distribution) barely moves the ranking;
- a dense list counts only when its embedder covers the language of the query and of the
  passages it returned (`language_coverage`); an English-only model on Chinese is left out.
  Several dense lists that can read the query (the default index and the English one) share
  one vote: they estimate the same thing, meaning, with different models. A passage gets the
  mean of the z-scores of those lists whose model can read it: the English index, which holds
  only English passages, has no say on a Chinese passage of a mixed base (counting it as its
  worst would let English passages outrank an English question's Chinese answer);
- the lexical list counts as much as its best hit covers the query (`query_coverage`: the share
  of the query's search terms, by weight, that the hit contains). A keyword engine that matched
  every term of the question is reliable; one that matched only a name or a number of an English
  question over Chinese passages (the rest of the query is in a script the passages do not use)
  is guessing, however peaked its scores look.
The fused score of a passage is the weighted sum of its z-scores; a passage missing from a list
counts as below that list's last entry.
A passage that has no vector yet (a base still being embedded) is invisible to the dense lists:
it counts as level with each dense list's top, so a missing vector never ranks it below a
passage it could have beaten with its vector.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean

from vectorstore.text import CJK_RE, normalise, query_words

RRF_K = 60


@dataclass(frozen=True)
class Ranked:
    id: str
    score: float


@dataclass(frozen=True)
class Evidence:
    """One retriever's ranking and how much to trust it for this query (0 = ignore)."""

    ranked: Sequence[Ranked]
    weight: float = 1.0
    #: Ids this list could not see (no vector yet): they count as level with its top.
    level_with_top: Collection[str] = ()
    #: Lists of one group share one vote: a passage gets the weighted mean of their z-scores.
    group: str | None = None
    #: Ids of passages this list's model cannot read (their language): where another list of
    #: the group can, the mean leaves this one out instead of counting the passage as its worst.
    unreadable: Collection[str] = ()


#: Runs of CJK characters: counted by their lengths, a few times faster than one match a character.
_CJK_RUN = re.compile(CJK_RE.pattern + "+")


def _cjk_share(text: str) -> float:
    if text.isascii():  # most English passages: no CJK, decided without reading them
        return 0.0
    letters = sum(map(str.isalpha, text))  # map: a few times faster than a generator, per query
    return sum(map(len, _CJK_RUN.findall(text))) / letters if letters else 0.0


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


_LATIN_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _term_weight(term: str) -> float:
    # Longer terms are rarer and say more (a CJK bigram or a full word against a one-character
    # particle): weigh each term by the log of its length, at least 1.
    return 1.0 + math.log(len(term))


def query_coverage(query: str, passage: str, terms: Sequence[str] | None = None) -> float:
    """The share of the query's words (weighted by length) that occur in `passage`.

    Latin-script terms match a word of the passage that starts with them or that they start
    with (ducks ~ duck, migrates ~ migration by their common stem of all but three letters);
    CJK terms match anywhere, after the same normalisation as the index (traditional to
    simplified, full-width to half-width).
    """
    terms = list(terms) if terms is not None else query_words(query)
    return translation_coverage({t: (t,) for t in terms}, passage)


def translation_coverage(words: Mapping[str, Sequence[str]], passage: str) -> float:
    """The share of the query's words (weighted by length) of which `passage` contains at least
    one rendering (`words`: each query word and its renderings; a word with none counts as missing).

    Matching is `query_coverage`'s."""
    if not words:
        return 0.0
    text = normalise(passage)
    words_of_text: set[str] | None = None
    total = found = 0.0
    for word, renderings in words.items():
        weight = _term_weight(word)
        total += weight
        for term in renderings:
            if CJK_RE.search(term) or not _LATIN_WORD.fullmatch(term):
                hit = term in text
            else:
                if words_of_text is None:
                    words_of_text = set(_LATIN_WORD.findall(text))
                hit = _latin_match(term, words_of_text)
            if hit:
                found += weight
                break
    return found / total


def _latin_match(term: str, words: set[str]) -> bool:
    stem = term[: max(4, len(term) - 3)]
    return term in words or any(w.startswith(stem) or term.startswith(w) and len(w) >= 4 for w in words)


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
    spread = _pstdev(rest, mean) or abs(ranked[0].score - mean) or 1.0
    return {r.id: (r.score - mean) / spread for r in ranked}


def _pstdev(values: Sequence[float], mean: float) -> float:
    """The population standard deviation in floats (statistics.pstdev is exact, with fractions, and
    took a tenth of a search); exactly 0 when all values are equal."""
    if max(values) == min(values):
        return 0.0
    return math.sqrt(fmean([(x - mean) ** 2 for x in values]))


def weighted_rrf(lists: Sequence[tuple[Sequence[Ranked], float]], k: int = RRF_K) -> list[Ranked]:
    """Reciprocal rank fusion with one weight per list (plain RRF with all weights 1)."""
    fused: dict[str, float] = {}
    for ranked, weight in lists:
        if weight <= 0:
            continue
        for rank, item in enumerate(ranked):
            fused[item.id] = fused.get(item.id, 0.0) + weight / (k + rank + 1)
    return [Ranked(i, s) for i, s in sorted(fused.items(), key=lambda kv: -kv[1])]


def fuse_evidence(evidence: Sequence[Evidence]) -> list[Ranked]:
    """The weighted sum of each list's z-scores, best first.

    Every passage of every list is kept (an ignored list's passages come last, in its order);
    a passage missing from a list scores one below that list's lowest z-score there. Ties keep
    first-seen order (lists in the order given), so results are deterministic.
    """
    order: dict[str, int] = {}
    for ev in evidence:
        for r in ev.ranked:
            order.setdefault(r.id, len(order))
    heard = [(ev, _with_unseen(ev)) for ev in evidence if ev.weight > 0 and ev.ranked]
    floors = [min(z.values()) - 1.0 for _, z in heard]
    alone = [(ev.weight, z, floor) for (ev, z), floor in zip(heard, floors, strict=True) if ev.group is None]
    groups: dict[str, list[tuple[Evidence, dict[str, float], float]]] = {}
    for (ev, z), floor in zip(heard, floors, strict=True):
        if ev.group is not None:
            groups.setdefault(ev.group, []).append((ev, z, floor))

    def score(i: str) -> float:
        total = sum(w * z.get(i, floor) for w, z, floor in alone)
        for members in groups.values():
            readers = [m for m in members if i not in m[0].unreadable] or members
            weight = sum(ev.weight for ev, _, _ in readers)
            total += sum(ev.weight * z.get(i, floor) for ev, z, floor in readers) / max(1.0, weight)
        return total

    fused = {i: score(i) for i in order}
    return [Ranked(i, s) for i, s in sorted(fused.items(), key=lambda kv: (-kv[1], order[kv[0]]))]


def _with_unseen(ev: Evidence) -> dict[str, float]:
    z = zscores(ev.ranked)
    if ev.level_with_top and z:
        top = max(z.values())
        z = {i: top for i in ev.level_with_top} | z
    return z


def hybrid_evidence(
    query: str,
    dense: Sequence[tuple[Sequence[Ranked], frozenset[str] | None, Sequence[str]]],
    lexical: Sequence[Ranked],
    lexical_texts: Sequence[str] = (),
    *,
    unembedded: Collection[str] = (),
    translated: Sequence[Ranked] = (),
    translated_texts: Sequence[str] = (),
    translation: Mapping[str, Sequence[str]] | None = None,
) -> list[Evidence]:
    """Weighted evidence from a lexical list and any number of dense lists.

    `dense` holds, per dense index, its ranking, its embedder's languages and the ranked passages'
    texts. Without `lexical_texts` the lexical list keeps full weight. `translated` is the lexical
    index's answer to the query's words in the other language (`translation`: each query word and
    its renderings); it shares the keyword vote with `lexical` (below).
    """
    lexical_weight = query_coverage(query, lexical_texts[0]) if lexical and lexical_texts else 1.0
    readable = [
        language_coverage(query, languages, texts) if ranked else 0.0 for ranked, languages, texts in dense
    ]
    texts_by_id = dict(zip((r.id for r in lexical), lexical_texts, strict=False))
    texts_by_id.update(zip((r.id for r in translated), translated_texts, strict=False))
    for ranked, _, texts in dense:
        texts_by_id.update(zip((r.id for r in ranked), texts, strict=False))
    # Dense indexes that can read the query estimate the same thing (meaning) with different
    # models: they share one vote, the lexical side (exact words) has the other. A passage only
    # the multilingual index can read (a Chinese one, for an English query over a mixed base)
    # gets that index's whole share: an English index that cannot hold it has no opinion on it.
    evidence = [
        Evidence(
            ranked,
            weight,
            frozenset(unembedded),
            group="dense",
            unreadable=_unreadable(texts_by_id, languages, ranked) if weight else frozenset(),
        )
        for (ranked, languages, _), weight in zip(dense, readable, strict=True)
    ]
    if not translated or not translation:
        return [Evidence(lexical, lexical_weight)] + evidence
    # The query's words and their translations are one keyword vote, each list speaking for the
    # passages written in its script: the query's own words cannot occur in a passage of the
    # other script (missing there says nothing), nor the translations in one of the query's.
    # Each list is trusted as far as its best hit contains the words it searched for, and the
    # translation (a dictionary's guess at the words) only for what the query's own words did not
    # find: where they all occur in a passage of the query's script, it has no say.
    found = translation_coverage(translation, translated_texts[0]) if translated_texts else 0.0
    own = lexical_weight if lexical and lexical_texts else 0.0
    translated_weight = found * (1.0 - own)
    query_cjk = _mostly_cjk(query)
    other_script = {i for i, t in texts_by_id.items() if _mostly_cjk(t) != query_cjk}
    same_script = set(texts_by_id) - other_script
    return [
        Evidence(lexical, lexical_weight, group="lexical", unreadable=frozenset(other_script)),
        Evidence(translated, translated_weight, group="lexical", unreadable=frozenset(same_script)),
    ] + evidence


def _mostly_cjk(text: str) -> bool:
    return _cjk_share(text[:200]) > 0.3


_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)


def _unreadable(
    texts_by_id: dict[str, str], languages: frozenset[str] | None, own: Sequence[Ranked]
) -> frozenset[str]:
    """Ids of passages (mostly CJK) that an embedder without CJK languages cannot read; the
    passages of its own list are readable by definition."""
    if languages is None or languages & {"zh", "ja", "ko"}:
        return frozenset()
    seen = {r.id for r in own}
    out = set()
    for i, text in texts_by_id.items():
        sample = text[:100]
        if i not in seen and CJK_RE.search(sample):  # most passages of an English query: none
            if sum(map(len, _CJK_RUN.findall(sample))) > 0.3 * sum(map(len, _LETTERS.findall(sample))):
                out.add(i)
    return frozenset(out)


def fuse(
    dense: Sequence[Ranked],
    lexical: Sequence[Ranked],
    *,
    query: str,
    embedder_languages: frozenset[str] | None,
    dense_texts: Sequence[str] = (),
    lexical_texts: Sequence[str] = (),
    adaptive: bool = True,
    unembedded: Collection[str] = (),
) -> list[Ranked]:
    """One ranking from one dense and one lexical list; `adaptive=False` gives plain RRF.

    `unembedded`: ids of lexical hits whose vectors are not stored yet (dense retrieval could
    not see them), which a missing dense score must not push down.
    """
    if not adaptive:
        return weighted_rrf([(dense, 1.0), (lexical, 1.0)])
    return fuse_evidence(
        hybrid_evidence(
            query, [(dense, embedder_languages, dense_texts)], lexical, lexical_texts, unembedded=unembedded
        )
    )
