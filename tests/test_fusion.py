"""Adaptive weighted reciprocal rank fusion: its parts, and how it treats an embedder that does
not know the query's language."""

from __future__ import annotations

import pytest

from assistant.retrieval.fusion import RRF_K, Ranked, fuse, language_coverage, weighted_rrf, zscores

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
