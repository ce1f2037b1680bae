"""Citations are checked after the answer: unknown labels and unsupported claims are flagged."""

from __future__ import annotations

from assistant.chat.citations import check_citations
from assistant.retrieval import Source, assign_labels

SOURCES = assign_labels(
    [
        Source(
            "kb",
            "登高",
            "/poems.json",
            "风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。",
            1,
            "a",
        ),
        Source(
            "web", "Ducks", "https://example.org/duck", "A duckling is a young duck in downy plumage.", 1, "b"
        ),
    ]
)


def test_supported_citations_pass() -> None:
    answer = "《登高》写了风急天高、猿声哀鸣的秋景 [K1]。A duckling is a young duck [W1]."
    report = check_citations(answer, SOURCES)
    assert report.labels_used == ["K1", "W1"] and report.ok


def test_unknown_labels_are_flagged() -> None:
    report = check_citations("这首诗写于夔州 [K7]。", SOURCES)
    assert report.unknown_labels == ["K7"] and not report.ok


def test_claim_sharing_nothing_with_its_source_is_flagged() -> None:
    report = check_citations("The Eiffel Tower was finished in 1889 [K1].", SOURCES)
    assert report.unsupported and report.unsupported[0]["labels"] == ["K1"]


def test_bracket_variants_are_recognised() -> None:
    report = check_citations("长江滚滚而来【K1】。Ducklings have downy plumage [K1, W1].", SOURCES)
    assert report.labels_used == ["K1", "W1"] and report.ok
