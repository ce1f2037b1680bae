"""The retrieval benchmark's English development sets load as benchmarks/retrieval.py expects."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from benchmarks.common import (
    APIDOCS,
    CRANFIELD,
    load_apidocs,
    load_cranfield,
    load_django_i18n,
    load_poetry,
    rank_metrics,
)
from vectorstore.kb import english_index_wanted

# Three abstracts, two queries in the SMART format of the Cranfield files; query .I ids have gaps
# (cranqrel numbers the queries 1, 2 in file order) and the abstracts' text begins with the title.
CRAN_ALL = """.I 1
.T
experimental investigation of the aerodynamics of a wing in a slipstream .
.A
brenckman,m.
.B
j. ae. scs. 25, 1958, 324.
.W
experimental investigation of the aerodynamics of a
wing in a slipstream .
.I 2
.T
simple shear flow past a flat plate
.W
simple shear flow past a flat plate in an incompressible fluid .
.I 5
.T
one-dimensional transient heat conduction
.W
one-dimensional transient heat conduction into a double-layer slab .
"""
CRAN_QRY = """.I 001
.W
what similarity laws must be obeyed when constructing aeroelastic models
of heated high speed aircraft .
.I 008
.W
what is the heat conduction in composite slabs .
"""
CRANQREL = "1 1 2\n1 2 4\n2 5 1\n2 2 -1\n"


def test_apidocs_is_english_queries_each_with_its_own_document() -> None:
    docs, queries = load_apidocs()
    assert len(docs) == len(queries) == 1144
    assert [rel for _, rel in queries] == list(range(len(docs)))
    assert len(set(docs)) == len(docs)
    assert len({q.lower() for q, _ in queries}) == len(queries)
    for query, rel in queries:
        assert 4 <= len(query.split()) <= 30
        # The summary itself is never in the document.
        assert query.rstrip(".").lower() not in docs[rel].lower()
        assert 30 <= len(docs[rel].split()) and len(docs[rel]) <= 1200
    # English, as a base's English index sees it.
    assert sum(english_index_wanted(q) for q, _ in queries) > 0.95 * len(queries)
    assert all(english_index_wanted(d) for d in docs)
    source = json.loads(gzip.decompress(APIDOCS.read_bytes()))["source"]
    assert set(source) >= {"numpy", "scipy", "scikit-learn"}


def test_apidocs_loader_reads_any_file_in_its_format(tmp_path: Path) -> None:
    items = [{"id": "m.f", "query": "Do a thing.", "text": "t1"}, {"id": "m.g", "query": "Q2", "text": "t2"}]
    path = tmp_path / "set.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"source": {}, "items": items}).encode()))
    assert load_apidocs(path) == (["t1", "t2"], [("Do a thing.", 0), ("Q2", 1)])


def test_cranfield_loader_keeps_grades_one_to_three_as_gains_by_query_position(tmp_path: Path) -> None:
    (tmp_path / "cran.all.1400").write_text(CRAN_ALL)
    (tmp_path / "cran.qry").write_text(CRAN_QRY)
    (tmp_path / "cranqrel").write_text(CRANQREL)
    assert load_cranfield.available(tmp_path)
    docs, queries = load_cranfield(tmp_path)
    assert docs == [
        "experimental investigation of the aerodynamics of a wing in a slipstream .",
        "simple shear flow past a flat plate in an incompressible fluid .",
        "one-dimensional transient heat conduction into a double-layer slab .",
    ]
    assert queries == [
        (
            "what similarity laws must be obeyed when constructing aeroelastic models of heated high "
            "speed aircraft .",
            {0: 2},  # grade 2: gain 2; grade 4 ("minimum interest") is not relevant
        ),
        ("what is the heat conduction in composite slabs .", {2: 3}),  # grade 1: gain 3; -1 is not
    ]


def test_cranfield_is_unavailable_until_its_files_are_there(tmp_path: Path) -> None:
    (tmp_path / "cran.qry").write_text(CRAN_QRY)
    assert not load_cranfield.available(tmp_path)


def test_a_mixed_base_holds_both_sets_with_their_queries_pointing_into_it() -> None:
    from benchmarks.retrieval import load_set

    docs, queries = load_set("tatoeba-en-zh+apidocs")
    tatoeba_docs, tatoeba_queries = load_set("tatoeba-en-zh")
    api_docs, api_queries = load_set("apidocs")
    assert docs == tatoeba_docs + api_docs
    assert len(queries) == len(tatoeba_queries) + len(api_queries)
    for query, rel in queries[:3] + queries[-3:]:
        part_docs, part_queries, shift = (
            (tatoeba_docs, tatoeba_queries, 0)
            if rel < len(tatoeba_docs)
            else (api_docs, api_queries, len(tatoeba_docs))
        )
        assert (query, rel - shift) in part_queries
        assert docs[rel] == part_docs[rel - shift]


def test_the_shared_cranfield_collection_loads_with_graded_judgements() -> None:
    if not load_cranfield.available(CRANFIELD):
        pytest.skip("../shared/data/retrieval/cranfield is not here")
    docs, queries = load_cranfield()
    assert len(docs) == 1400
    assert 200 <= len(queries) <= 225  # the queries with at least one relevant abstract
    assert all(rel and set(rel.values()) <= {1, 2, 3} for _, rel in queries)
    assert {g for _, rel in queries for g in rel.values()} == {1, 2, 3}


def test_metrics_grade_the_ranking() -> None:
    # One query with graded gains, one with a single relevant document.
    metrics = rank_metrics([[7, 1, 2], [5, 4]], [{1: 3, 2: 1}, 4])
    assert metrics["recall@1"] == 0.0
    assert metrics["recall@5"] == 1.0
    assert metrics["mrr@10"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    ideal = 3 + 1 / 1.5849625007211562
    first = (3 / 1.5849625007211562 + 1 / 2) / ideal
    assert metrics["ndcg@10"] == pytest.approx((first + 1 / 1.5849625007211562) / 2)
    # A perfect ranking scores 1; the order of the graded documents matters.
    assert rank_metrics([[1, 2]], [{1: 3, 2: 1}])["ndcg@10"] == pytest.approx(1.0)
    assert rank_metrics([[2, 1]], [{1: 3, 2: 1}])["ndcg@10"] < 1.0


def test_poetry_paraphrases_point_at_their_poems() -> None:
    docs, queries = load_poetry()
    assert len(docs) == 1000 and len(queries) >= 60
    assert len({q for q, _ in queries}) == len(queries)
    assert "登高" in docs[389]
    for query, poem in queries:
        # Modern Chinese about the poem, not a line copied from it.
        assert 10 <= len(query) <= 80
        lines = docs[poem].split("》", 1)[1].replace("。", "，").split("，")
        assert not any(len(line) >= 5 and line in query for line in lines)


def test_django_messages_pair_english_with_chinese_in_both_scripts() -> None:
    docs, queries = load_django_i18n("en-zh")
    back_docs, back_queries = load_django_i18n("zh-en")
    assert len(docs) == len(queries) >= 200
    assert [q for q, _ in back_queries] == docs and back_docs == [q for q, _ in queries]
    assert all(rel == i for i, (_, rel) in enumerate(queries))
    assert all(english_index_wanted(q) for q, _ in queries[:50])
    assert not any(english_index_wanted(d) for d in docs)
    # Simplified and traditional alternate; no placeholder is left for BM25 to match.
    assert docs[[q for q, _ in queries].index("Enter a valid JSON.")] in (
        "输入一个有效的JSON。",
        "輸入有效的 JSON。",
    )
    assert any("输" in d for d in docs[::2]) and any("輸" in d for d in docs[1::2])
    assert not any("%(" in d or "{" in d for d in docs + back_docs)
