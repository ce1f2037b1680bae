"""Reasoning is kept apart from the answer in every form it arrives in, whatever the chunking."""

from __future__ import annotations

import pytest

from assistant.chat.reasoning import ReasoningSplitter


def split(pieces: list[str], *, expect: bool = False, thinking: list[str] = ()) -> tuple:
    splitter = ReasoningSplitter(expect_inline_reasoning=expect)
    deltas = []
    for t in thinking:
        deltas += list(splitter.feed(thinking=t))
    for p in pieces:
        deltas += list(splitter.feed(content=p))
    result = splitter.finish()
    return result, deltas


def chunked(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 1000])
def test_inline_think_tags_are_split_whatever_the_chunk_size(size: int) -> None:
    text = "<think>\n鸡有x只，兔有y只。x+y=25</think>\n\n鸡12只，兔13只。"
    result, deltas = split(chunked(text, size))
    assert result.reasoning == "鸡有x只，兔有y只。x+y=25"
    assert result.answer == "鸡12只，兔13只。"
    assert "".join(t for k, t in deltas if k == "reasoning").strip() == result.reasoning
    assert not any("<" in t and k == "answer" for k, t in deltas)


@pytest.mark.parametrize("size", [1, 4, 1000])
@pytest.mark.parametrize("expect", [True, False])
def test_lone_closing_tag_marks_everything_before_as_reasoning(size: int, expect: bool) -> None:
    text = "Let me count the legs.\n</think>\n\n12 chickens and 13 rabbits."
    result, _ = split(chunked(text, size), expect=expect)
    assert (result.reasoning, result.answer) == ("Let me count the legs.", "12 chickens and 13 rabbits.")
    assert not result.reclassified


def test_native_thinking_field() -> None:
    result, deltas = split(["The answer ", "is 42."], thinking=["Think ", "hard."])
    assert (result.reasoning, result.answer) == ("Think hard.", "The answer is 42.")
    assert [k for k, _ in deltas] == ["reasoning", "reasoning", "answer", "answer"]


def test_expected_reasoning_that_never_ends_becomes_the_answer() -> None:
    result, deltas = split(["Paris is the ", "capital."], expect=True)
    assert result.reclassified
    assert (result.reasoning, result.answer) == ("", "Paris is the capital.")


def test_plain_answer_with_angle_brackets_is_untouched() -> None:
    result, _ = split(chunked("Use a < b and <b>bold</b> here.", 3))
    assert (result.reasoning, result.answer) == ("", "Use a < b and <b>bold</b> here.")
