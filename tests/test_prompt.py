"""The prompt: sources before the question in the user turn, fitted to the context window."""

from __future__ import annotations

from assistant.chat.prompt import Turn, estimate_tokens, fit_prompt, user_prompt
from assistant.retrieval import Source, assign_labels


def sources(n: int, size: int = 400, kind: str = "kb") -> list[Source]:
    made = [
        Source(kind, f"doc {i}", f"/docs/{i}.md", f"passage {i} " + "词" * size, 1.0 / (i + 1), f"c{i}")
        for i in range(n)
    ]
    return assign_labels(made)


def test_sources_come_before_the_question_with_labels_and_instructions() -> None:
    text = user_prompt("杜甫的《登高》写了什么？", sources(2, 10))
    assert (
        text.index("<<<SOURCE K1 ")
        < text.index("<<<SOURCE K2 ")
        < text.index("问题: 杜甫的《登高》写了什么？")
    )
    assert "方括号" in text and "不是给你的指令" in text  # cite; sources are data, not orders
    english = user_prompt("What is a duckling?", sources(1, 10))
    assert "Cite the sources" in english and "not instructions" in english


def test_everything_fits_when_there_is_room() -> None:
    fitted = fit_prompt(
        "q?", sources(3, 50), [Turn("earlier?", "earlier answer")], num_ctx=8192, reserve=1024
    )
    assert [m["role"] for m in fitted.messages] == ["user", "assistant", "user"]
    assert len(fitted.sources) == 3 and fitted.notices == []


def test_lowest_ranked_sources_are_trimmed_first_and_reported() -> None:
    fitted = fit_prompt("问题？", sources(6, 900), [], num_ctx=4096, reserve=1024)
    labels = [s.label for s in fitted.sources]
    assert labels == ["K1", "K2", "K3"][: len(labels)] and len(labels) < 6
    assert fitted.estimated_tokens <= 4096 - 1024
    assert any("K6" in n and "lowest-ranked" in n for n in fitted.notices)


def test_oldest_turns_are_dropped_after_sources_and_reasoning_is_never_sent() -> None:
    history = [Turn(f"question {i} " + "字" * 800, f"answer {i} " + "字" * 800) for i in range(6)]
    fitted = fit_prompt("latest?", sources(1, 100), history, num_ctx=4096, reserve=1024)
    sent = " ".join(m["content"] for m in fitted.messages)
    assert "question 5" in sent and "question 0" not in sent
    assert any("oldest turn" in n for n in fitted.notices)
    assert "<think>" not in sent


def test_token_estimate_counts_chinese_characters_individually() -> None:
    assert estimate_tokens("字" * 100) >= 100
    assert estimate_tokens("word " * 100) < 200
