"""The in-memory BM25 ranker for web passages, and storage that keeps its own secrets: callers go
through KnowledgeBase methods, never its Chroma collection or its lexical index."""

from __future__ import annotations

import ast
from pathlib import Path

from assistant.retrieval.bm25 import bm25_ranking

ROOT = Path(__file__).resolve().parents[1]


def test_ranks_by_matching_terms_and_leaves_out_the_unrelated() -> None:
    passages = [
        ("a", "Ducks swim in lakes and rivers."),
        ("b", "A duckling is a young duck in downy plumage."),
        ("c", "The stock market closed higher today."),
    ]
    ranked = bm25_ranking("young duckling", passages)
    assert [r.id for r in ranked][0] == "b"
    assert "c" not in {r.id for r in ranked}


def test_english_word_forms_meet_and_rare_terms_weigh_more() -> None:
    passages = [("a", "The birds migrated south."), ("b", "birds birds birds sing"), ("c", "cats")]
    ranked = bm25_ranking("bird migrates", passages)
    assert ranked[0].id == "a", ranked  # "migrates"/"migrated" share a stem, and it is the rarer term


def test_traditional_and_simplified_chinese_find_each_other() -> None:
    passages = [("t", "風急天高猿嘯哀，渚清沙白鳥飛回。"), ("o", "床前明月光，疑是地上霜。")]
    assert [r.id for r in bm25_ranking("风急天高", passages)] == ["t"]


def test_no_terms_or_no_passages_rank_nothing() -> None:
    assert bm25_ranking("", [("a", "text")]) == []
    assert bm25_ranking("ducks", []) == []


def test_callers_use_knowledge_base_methods_not_its_internals() -> None:
    offenders = []
    for folder in ("assistant", "ingest", "tui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in ("collection", "index"):
                    inner = node.value
                    if isinstance(inner, ast.Attribute) and inner.attr in ("kb", "knowledge_base", "base"):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                    if isinstance(inner, ast.Name) and inner.id in ("kb", "knowledge_base", "base"):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if "LexicalIndex" in path.read_text(encoding="utf-8") and folder != "vectorstore":
                offenders.append(f"{path.relative_to(ROOT)}: LexicalIndex")
    assert not offenders, offenders
