"""Adaptive weighted reciprocal rank fusion: its parts, and how it treats an embedder that does
not know the query's language."""

from __future__ import annotations

import random
import statistics

import pytest

from assistant.retrieval.fusion import (
    RRF_K,
    Evidence,
    Ranked,
    fuse,
    fuse_evidence,
    hybrid_evidence,
    language_coverage,
    query_coverage,
    weighted_rrf,
    zscores,
)
from assistant.retrieval.fusion import _cjk_share as cjk_share

ENGLISH_ONLY = frozenset({"en"})


def ranked(*ids: str, scores: list[float] | None = None) -> list[Ranked]:
    scores = scores or [1.0 / (i + 1) for i in range(len(ids))]
    return [Ranked(i, s) for i, s in zip(ids, scores, strict=True)]


def ids(items: list[Ranked]) -> list[str]:
    return [r.id for r in items]


def test_weighted_rrf_sums_weight_over_rank() -> None:
    fused = weighted_rrf([(ranked("a", "b"), 1.0), (ranked("b", "c"), 2.0)])
    scores = {r.id: r.score for r in fused}
    assert scores["a"] == pytest.approx(1 / (RRF_K + 1))
    assert scores["b"] == pytest.approx(1 / (RRF_K + 2) + 2 / (RRF_K + 1))
    assert scores["c"] == pytest.approx(2 / (RRF_K + 2))
    assert ids(fused) == ["b", "c", "a"]
    assert [r.score for r in fused] == sorted((r.score for r in fused), reverse=True)


def test_weighted_rrf_ignores_unweighted_lists_and_keeps_ties_in_first_seen_order() -> None:
    assert ids(weighted_rrf([(ranked("x", "y"), 0.0), (ranked("a", "b"), 1.0)])) == ["a", "b"]
    assert ids(weighted_rrf([(ranked("x"), -1.0)])) == []
    # a and b tie (rank 1 in one list each, equal weights): a was seen first.
    assert ids(weighted_rrf([(ranked("a"), 1.0), (ranked("b"), 1.0)])) == ["a", "b"]
    assert ids(weighted_rrf([])) == []
    assert weighted_rrf([(ranked("a"), 1.0)], k=0)[0].score == pytest.approx(1.0)


def test_zscores_measure_distance_from_the_rest_of_the_list() -> None:
    assert zscores([]) == {}
    assert zscores(ranked("a", scores=[0.3])) == {"a": 1.0}
    z = zscores(ranked("a", "b", "c", scores=[3.0, 2.0, 1.0]))  # rest: mean 1.5, deviation 0.5
    assert z == pytest.approx({"a": 3.0, "b": 1.0, "c": -1.0})
    # Independent of the score scale and offset (BM25 and cosine are not comparable).
    assert zscores(ranked("a", "b", "c", scores=[30.0, 20.0, 10.0])) == pytest.approx(z)
    assert zscores(ranked("a", "b", "c", scores=[-7.0, -8.0, -9.0])) == pytest.approx(z)
    # Only one other entry (or all others equal): the top's lead is the unit, as for one entry.
    assert zscores(ranked("a", "b", scores=[5.0, 4.9])) == pytest.approx({"a": 1.0, "b": 0.0})
    assert zscores(ranked("a", "b", "c", scores=[0.9, 0.5, 0.5])) == pytest.approx(
        {"a": 1.0, "b": 0.0, "c": 0.0}
    )
    assert zscores(ranked("a", "b", "c", scores=[2.0, 2.0, 2.0])) == {"a": 0.0, "b": 0.0, "c": 0.0}
    # A peaked list (found something) speaks louder than a flat one (guessing).
    peaked = zscores(ranked("a", "b", "c", "d", scores=[0.9, 0.2, 0.19, 0.18]))
    flat = zscores(ranked("a", "b", "c", "d", scores=[0.21, 0.2, 0.19, 0.18]))
    assert peaked["a"] > 10 * flat["a"]


def test_zscores_spread_is_the_population_standard_deviation() -> None:
    rng = random.Random(3)
    for n in (3, 4, 10, 40):
        scores = sorted((rng.uniform(-20, 20) for _ in range(n)), reverse=True)
        rest = scores[1:]
        expected = (scores[0] - statistics.fmean(rest)) / statistics.pstdev(rest)
        assert zscores(ranked(*map(str, range(n)), scores=scores))["0"] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("", 0.0),
        ("1234 !?", 0.0),
        ("Plain English words only.", 0.0),
        ("café au lait", 0.0),
        ("北京是首都", 1.0),
        ("北京 is the capital", 2 / 14),  # two CJK letters of fourteen
        ("東京タワー and 서울", 7 / 10),  # kanji, katakana and hangul are CJK letters
        ("ＡＢＣ全角", 2 / 5),  # full-width Latin letters are letters, not CJK
    ],
)
def test_cjk_share_counts_cjk_letters_among_all_letters(text: str, share: float) -> None:
    assert cjk_share(text) == pytest.approx(share)


@pytest.mark.parametrize(
    ("query", "languages", "passages", "expected"),
    [
        ("杜甫的《登高》写了什么？", ENGLISH_ONLY, [], 0.0),
        ("風急天高猿嘯哀", ENGLISH_ONLY, [], 0.0),
        ("ドラえもんの道具", ENGLISH_ONLY, [], 0.0),
        ("How do mallard ducks migrate?", ENGLISH_ONLY, ["Mallard ducks migrate south."], 1.0),
        ("What does 登高 mean in English poetry translations?", ENGLISH_ONLY, [], 1.0),  # mostly English
        # An English question over Chinese passages: the model cannot read what it ranked.
        ("What did Du Fu write?", ENGLISH_ONLY, ["杜甫《登高》：风急天高猿啸哀，渚清沙白鸟飞回。"], 0.0),
        ("杜甫的《登高》写了什么？", None, [], 1.0),  # multilingual or unknown
        ("杜甫的《登高》写了什么？", frozenset({"en", "zh"}), [], 1.0),
        ("ドラえもんの道具", frozenset({"ja"}), [], 1.0),
        ("2023-10-01", ENGLISH_ONLY, [], 1.0),  # no letters at all
    ],
)
def test_language_coverage(
    query: str, languages: frozenset[str] | None, passages: list[str], expected: float
) -> None:
    assert language_coverage(query, languages, passages) == expected


# The dense list disagrees with the lexical one: naive RRF follows the dense list's noise.
LEXICAL = ranked("a", "b", "c", scores=[12.0, 3.0, 2.9])
DENSE = ranked("c", "b", "x", "y", "a", scores=[0.31, 0.30, 0.30, 0.29, 0.29])


def test_naive_rrf_lets_a_noisy_dense_list_reorder_lexical_hits() -> None:
    naive = fuse(DENSE, LEXICAL, query="登高", embedder_languages=ENGLISH_ONLY, adaptive=False)
    assert ids(naive)[0] == "c"
    assert naive == weighted_rrf([(DENSE, 1.0), (LEXICAL, 1.0)])


def test_adaptive_fusion_keeps_lexical_order_when_the_embedder_cannot_read_the_query() -> None:
    fused = fuse(DENSE, LEXICAL, query="杜甫的登高", embedder_languages=ENGLISH_ONLY)
    # Lexical order; dense-only items follow in dense order, so nothing is lost.
    assert ids(fused) == ["a", "b", "c", "x", "y"]
    # The same when the query is English but the passages the embedder ranked are Chinese.
    chinese = ["风急天高猿啸哀", "渚清沙白鸟飞回", "无边落木萧萧下", "不尽长江滚滚来", "万里悲秋常作客"]
    fused = fuse(DENSE, LEXICAL, query="Du Fu", embedder_languages=ENGLISH_ONLY, dense_texts=chinese)
    assert ids(fused) == ["a", "b", "c", "x", "y"]
    # A multilingual embedder is heard: dense z-scores are added.
    heard = {r.id: r.score for r in fuse(DENSE, LEXICAL, query="杜甫的登高", embedder_languages=None)}
    deaf = {r.id: r.score for r in fused}
    assert heard["c"] > deaf["c"] and heard["x"] > deaf["x"]  # dense ranked them first and third


def test_adaptive_fusion_trusts_a_confident_dense_list_for_a_covered_language() -> None:
    dense = ranked("d", "b", "c", "a", scores=[0.9, 0.2, 0.19, 0.18])  # peaked: found something
    lexical = ranked("a", "b", "c", "d", scores=[1.0, 0.99, 0.98, 0.97])  # flat: guessing
    english = ["duck", "migration", "lake", "autumn"]
    fused = fuse(dense, lexical, query="duck migration", embedder_languages=ENGLISH_ONLY, dense_texts=english)
    assert ids(fused)[0] == "d"
    # The same lists for a Chinese query and an English-only embedder: lexical decides.
    assert ids(fuse(dense, lexical, query="鸭子迁徙", embedder_languages=ENGLISH_ONLY))[0] == "a"


def test_a_short_lexical_list_does_not_outvote_a_confident_dense_list() -> None:
    # Two keyword matches only: the lexical list's spread is unknown, not zero.
    dense = ranked("d", "a", "b", "c", "e", scores=[0.9, 0.3, 0.29, 0.28, 0.27])
    lexical = ranked("a", "b", scores=[5.0, 4.9])
    fused = fuse(dense, lexical, query="duck migration", embedder_languages=None)
    assert ids(fused)[:2] == ["d", "a"]
    # Same as with a third lexical match.
    three = ranked("a", "b", "c", scores=[5.0, 4.9, 4.8])
    assert ids(fuse(dense, three, query="duck migration", embedder_languages=None))[:2] == ["d", "a"]
    assert max(r.score for r in fused) < 100


def test_a_passage_missing_from_one_list_counts_below_its_last_entry() -> None:
    lexical = ranked("a", "b", "c", "d", scores=[4.0, 3.0, 2.0, 1.0])
    dense = ranked("d", "c", "b", "e", scores=[0.4, 0.3, 0.2, 0.1])
    fused = {r.id: r.score for r in fuse(dense, lexical, query="ducks", embedder_languages=None)}
    z_lex, z_dense = zscores(lexical), zscores(dense)
    assert fused["a"] == pytest.approx(z_lex["a"] + min(z_dense.values()) - 1)
    assert fused["e"] == pytest.approx(z_dense["e"] + min(z_lex.values()) - 1)
    assert fused["d"] == pytest.approx(z_lex["d"] + z_dense["d"])


def test_fusion_with_an_empty_side() -> None:
    assert ids(fuse([], LEXICAL, query="登高", embedder_languages=ENGLISH_ONLY)) == ["a", "b", "c"]
    assert ids(fuse(DENSE, [], query="ducks", embedder_languages=None)) == ["c", "b", "x", "y", "a"]
    assert fuse([], [], query="ducks", embedder_languages=None) == []


# --- the lexical side's own evidence: how much of the query its best hit covers ---------------


@pytest.mark.parametrize(
    ("query", "passage", "low", "high"),
    [
        ("How do mallard ducks migrate?", "Mallard ducks migrate south in autumn.", 0.99, 1.0),
        ("duck migration", "The duck migrates.", 0.99, 1.0),  # common stems
        ("無邊落木蕭蕭下", "无边落木萧萧下，不尽长江滚滚来。", 0.99, 1.0),  # traditional finds simplified
        ("杜甫的登高", "杜甫的诗", 0.2, 0.7),  # some terms
        # An English question over a Chinese sentence: only the name is in the passage.
        ("Is Tom reading a book about whales?", "Tom在看一本关于鲸鱼的书。", 0.05, 0.4),
        ("无边落木萧萧下", "Leaves fall without end.", 0.0, 0.0),
        ("", "anything", 0.0, 0.0),
    ],
)
def test_query_coverage(query: str, passage: str, low: float, high: float) -> None:
    assert low <= query_coverage(query, passage) <= high


# An English question over Chinese passages: BM25 can only match the name "Tom", in a wrong
# passage, with a peaked score (a short passage); the multilingual embedder found the translation.
CROSS_LEXICAL = ranked("wrong", "w2", "w3", "w4", "w5", scores=[6.0, 3.0, 2.9, 2.8, 2.7])
CROSS_LEXICAL_TEXTS = ["Tom很累。", "Tom和Mary是朋友。", "我认识Tom。", "Tom在哪儿？", "Tom笑了。"]
CROSS_DENSE = ranked("right", "wrong", "x", "y", "z", scores=[0.86, 0.80, 0.79, 0.79, 0.78])


def test_a_blind_lexical_side_cannot_pull_a_wrong_passage_above_a_confident_dense_top() -> None:
    query = "Tom is reading a book about whales."
    fused = fuse(
        CROSS_DENSE,
        CROSS_LEXICAL,
        query=query,
        embedder_languages=None,
        lexical_texts=CROSS_LEXICAL_TEXTS,
    )
    assert ids(fused)[0] == "right"
    # Without the lexical texts nothing says the keyword side was blind: the old rule lets it win.
    assert ids(fuse(CROSS_DENSE, CROSS_LEXICAL, query=query, embedder_languages=None))[0] == "wrong"


def test_a_lexical_hit_that_covers_the_whole_query_keeps_full_weight() -> None:
    query = "杜甫的《登高》写了什么？"
    lexical = ranked("a", "b", "c", scores=[12.0, 3.0, 2.9])
    texts = ["杜甫《登高》写了秋天的江景。", "杜甫的生平", "唐诗"]
    dense = ranked("b", "a", "c", scores=[0.84, 0.83, 0.80])
    evidence = hybrid_evidence(query, [(dense, None, ["", "", ""])], lexical, texts)
    assert [e.weight for e in evidence] == [pytest.approx(1.0), 1.0]
    assert ids(fuse_evidence(evidence))[0] == "a"


def test_fuse_evidence_weighs_lists_and_puts_ignored_passages_last() -> None:
    one = ranked("a", "b", scores=[2.0, 1.0])  # z: a 1, b 0
    two = ranked("b", "a", scores=[2.0, 1.0])  # z: b 1, a 0
    # Equal weights: a and b tie, first seen wins; more weight on `two` puts b first.
    assert ids(fuse_evidence([Evidence(one), Evidence(two)])) == ["a", "b"]
    weighted = fuse_evidence([Evidence(one, 1.0), Evidence(two, 2.0)])
    assert [(r.id, r.score) for r in weighted] == [("b", pytest.approx(2.0)), ("a", pytest.approx(1.0))]
    ignored = ranked("x", "y")
    assert ids(fuse_evidence([Evidence(one), Evidence(ignored, 0.0)])) == ["a", "b", "x", "y"]
    assert fuse_evidence([]) == []


def test_an_english_index_is_heard_for_english_queries_only() -> None:
    lexical = ranked("a", "b", scores=[2.0, 1.9])
    english = ranked("e", "a", "b", "c", scores=[0.9, 0.3, 0.29, 0.28])  # MiniLM: found it
    main = ranked("a", "e", "b", "c", scores=[0.83, 0.82, 0.81, 0.80])  # multilingual: unsure
    texts = ["Ducks fly south.", "Geese fly north.", "Owls stay.", "Swans glide."]
    dense = [(main, None, texts), (english, ENGLISH_ONLY, texts)]
    evidence = hybrid_evidence("where do ducks fly in winter", dense, lexical, ["ducks", "geese"])
    assert [(e.weight, e.group) for e in evidence][1:] == [(1.0, "dense"), (1.0, "dense")]
    assert ids(fuse_evidence(evidence))[0] == "e"  # both read English: one shared vote
    # A Chinese query: the English model cannot read it, its list is left out.
    evidence = hybrid_evidence("鸭子冬天飞到哪里", dense, lexical, ["鸭子", "大雁"])
    assert [e.weight for e in evidence][1:] == [1.0, 0.0]
    # An English index with nothing in it (a Chinese base) takes no share of the vote.
    evidence = hybrid_evidence("where do ducks fly", [(main, None, texts), ([], ENGLISH_ONLY, [])], lexical)
    assert [e.weight for e in evidence] == [1.0, 1.0, 0.0]


def test_dense_lists_share_one_vote_as_a_mean() -> None:
    lexical = ranked("a", "b", "c", scores=[3.0, 2.0, 1.0])
    first = ranked("c", "b", "a", scores=[0.9, 0.5, 0.1])
    second = ranked("c", "a", "b", scores=[0.8, 0.5, 0.2])
    shared = fuse_evidence([Evidence(lexical), Evidence(first, group="d"), Evidence(second, group="d")])
    halves = fuse_evidence([Evidence(lexical), Evidence(first, 0.5), Evidence(second, 0.5)])
    assert [(r.id, round(r.score, 9)) for r in shared] == [(r.id, round(r.score, 9)) for r in halves]


def test_an_english_index_has_no_say_on_chinese_passages_of_a_mixed_base() -> None:
    """An English question whose answer is a Chinese passage: the English index cannot hold that
    passage, so it must not count it as its worst and pull English passages above it."""
    texts = {
        "zh": "鸭子冬天飞到南方去。",
        "en1": "Geese fly north in spring.",
        "en2": "Owls stay all year.",
        "en3": "Swans glide on lakes.",
    }
    main = ranked("zh", "en1", "en2", "en3", scores=[0.83, 0.82, 0.70, 0.70])  # multilingual
    english = ranked("en1", "en2", scores=[0.60, 0.30])  # MiniLM: English passages only
    dense = [
        (main, None, [texts[r.id] for r in main]),
        (english, ENGLISH_ONLY, [texts[r.id] for r in english]),
    ]
    evidence = hybrid_evidence("where do ducks fly in winter", dense, [], [])
    assert evidence[2].unreadable == {"zh"} and not evidence[1].unreadable
    assert ids(fuse_evidence(evidence))[0] == "zh"
    # Counted as the English list's worst instead, the Chinese passage would lose its place.
    as_before = [Evidence(main, 0.5), Evidence(english, 0.5)]
    assert ids(fuse_evidence(as_before))[0] == "en1"
    # With no other list of the group to read it, the passage gets the list's floor as before.
    other = Evidence(ranked("zh", "en1"))
    alone = Evidence(english, group="dense", unreadable=frozenset({"zh"}))
    assert fuse_evidence([other, alone]) == fuse_evidence([other, Evidence(english, group="dense")])
