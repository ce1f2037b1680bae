"""Near-duplicate collapse and the per-document cap (with refill) over a ranked list."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.retrieval.dedupe import collapse, shingles, similarity


@dataclass(frozen=True)
class P:
    id: str
    doc: str
    text: str


def run(items: list[P], k: int, **kwargs) -> list[str]:
    return [p.id for p in collapse(items, text=lambda p: p.text, document=lambda p: p.doc, k=k, **kwargs)]


POEM_T = "杜甫《登高》：風急天高猿嘯哀，渚清沙白鳥飛回。無邊落木蕭蕭下，不盡長江滾滾來。"
POEM_S = "杜甫《登高》：风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。"
DUCKS = "Mallard ducks migrate south in autumn when the lakes begin to freeze over."
DUCKS_LONG = DUCKS + " Young ducks follow the older birds of the flock and rest on wide rivers at night."


def test_similarity_is_one_for_contained_text_and_zero_for_unrelated() -> None:
    whole = shingles(DUCKS_LONG + " Geese fly in a V.")
    assert similarity(shingles(DUCKS_LONG), whole) == 1.0
    assert similarity(shingles("Owls hunt at night in the forest."), shingles(DUCKS)) < 0.1
    assert similarity(set(), whole) == 0.0
    assert shingles("鸭子") == {"鸭子"}  # shorter than one shingle


def test_near_duplicates_collapse_to_the_best_ranked() -> None:
    items = [
        P("a", "/a.md", DUCKS_LONG),
        P("b", "/b.md", "Owls hunt at night in the forest, listening for mice under the snow."),
        P(
            "a-copy",
            "/copy.md",
            "  MALLARD ducks migrate south in autumn, when the lakes begin to freeze over! "
            + DUCKS_LONG[75:],
        ),
        P("a-part", "/c.md", DUCKS_LONG[8:-20]),
        P("c", "/d.md", "Engines need oil changes every ten thousand kilometres."),
    ]
    assert run(items, k=10) == ["a", "b", "c"]


def test_chinese_near_duplicates_collapse_across_traditional_and_simplified() -> None:
    items = [
        P("t", "/poem.txt", POEM_T),
        P("s", "/notes.md", POEM_S),
        P("s2", "/more.md", "全诗：" + POEM_S[7:] + "（杜甫）"),
        P("other", "/law.md", "国家建立数据分类分级保护制度，对数据实行分类分级保护。"),
    ]
    # The same poem in the other script is the same text; quoted in another frame it is a near-
    # duplicate only at a looser threshold than the default (5% of its 5-grams may differ).
    assert run(items, k=10) == ["t", "s2", "other"]
    assert run(items, k=10, threshold=0.8) == ["t", "other"]


def test_threshold_decides_what_counts_as_a_duplicate() -> None:
    half = DUCKS_LONG[:70] + " and then something else entirely about geese and swans in the winter months."
    items = [P("a", "/a", DUCKS_LONG), P("b", "/b", half)]
    assert run(items, k=5) == ["a", "b"]
    assert run(items, k=5, threshold=0.3) == ["a"]


def test_short_messages_are_duplicates_only_when_nearly_the_same() -> None:
    items = [
        P("long", "/1", "Mr. Crouch, what are you doing?"),
        P("short", "/2", "What are you doing?"),  # contained, but another sentence
        P("enable", "/3", "启用基于密码的验证"),
        P("disable", "/4", "禁用基于密码的验证"),  # one word away: the opposite
        P("same", "/5", "What are you doing? "),  # the same sentence again
    ]
    assert run(items, k=10) == ["long", "short", "enable", "disable"]


def test_per_document_cap_with_refill_when_too_few_are_left() -> None:
    items = [P(f"a{i}", "/long.md", f"passage {i} " + "x" * i + f" about topic {i * 7}") for i in range(5)]
    items.insert(3, P("b0", "/short.md", "a different document entirely"))
    # Two from /long.md, then /short.md; the capped passages come back only to fill k.
    assert run(items, k=3, per_document=2) == ["a0", "a1", "b0"]
    assert run(items, k=5, per_document=2) == ["a0", "a1", "b0", "a2", "a3"]
    assert run(items, k=10, per_document=2) == ["a0", "a1", "b0", "a2", "a3", "a4"]


def test_refill_never_brings_back_a_duplicate() -> None:
    # The capped passage of /a.md is the same text as one from /b.md that was kept.
    items = [
        P("a0", "/a.md", "Owls hunt at night in the forest, listening for mice under the snow."),
        P("a1", "/a.md", DUCKS),
        P("b0", "/b.md", DUCKS + " "),
    ]
    assert run(items, k=3, per_document=1) == ["a0", "b0"]


def test_stops_at_k_and_handles_empty_input() -> None:
    items = [P(str(i), f"/{i}", f"document number {i} " * 3 + "z" * i) for i in range(20)]
    assert run(items, k=4) == ["0", "1", "2", "3"]
    assert run([], k=4) == []
