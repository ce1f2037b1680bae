"""The answer pipeline against the fake Ollama server: events, prompt, options, reasoning in all
its forms, fallbacks, failures, citations and stats."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.chat.backends.ollama import OllamaBackend
from assistant.chat.events import AnswerDelta, Final, Notice, ReasoningDelta, SourcesFound
from assistant.chat.pipeline import AskOptions, Assistant
from assistant.chat.prompt import Turn
from assistant.retrieval import Retriever
from ingest import sync

from corpus import write_files
from fakes_ollama import FakeOllamaServer, Reply

R1 = "deepseek-r1:7b"

POEM = (
    "# 登高\n\n杜甫《登高》：风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。"
    "万里悲秋常作客，百年多病独登台。艰难苦恨繁霜鬓，潦倒新停浊酒杯。\n"
)
DUCKS = "# Ducks\n\nA duckling is a young duck in downy plumage. Ducks swim in lakes and rivers.\n"


@pytest.fixture
def server() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.add_model(R1)
        yield server


@pytest.fixture
def kb(open_kb, tmp_path: Path):
    kb = open_kb()
    sync(kb, write_files(tmp_path / "notes", {"poem.md": POEM, "ducks.md": DUCKS}))
    return kb


def make_assistant(server: FakeOllamaServer, kb=None, **options) -> Assistant:
    retriever = Retriever(kb) if kb is not None else None
    return Assistant(OllamaBackend(server.url()), lambda name: retriever, options=AskOptions(**options))


def run(assistant: Assistant, question: str, **kwargs) -> tuple[list, Final]:
    events = list(assistant.ask(question, **kwargs))
    assert isinstance(events[-1], Final)
    return events, events[-1]


def test_events_come_in_order_with_reasoning_apart(server, kb) -> None:
    server.script(
        R1, Reply(reasoning="诗里写了秋景。", answer="《登高》写秋天登高所见 [K1]。", tokens_per_second=25)
    )
    events, final = run(make_assistant(server, kb), "杜甫的《登高》写了什么？")
    kinds = [type(e) for e in events]
    assert (
        kinds.index(SourcesFound)
        < kinds.index(ReasoningDelta)
        < kinds.index(AnswerDelta)
        < kinds.index(Final)
    )
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "诗里写了秋景。"
    assert final.answer == "《登高》写秋天登高所见 [K1]。" and final.reasoning == "诗里写了秋景。"
    assert final.sources[0].label == "K1" and "登高" in final.sources[0].text
    assert final.citations.ok and final.citations.labels_used == ["K1"]
    assert final.stats.tokens_per_second == pytest.approx(25, rel=0.01)
    assert final.stats.time_to_first_token is not None and final.stats.reasoning_seconds is not None


def test_prompt_and_options_follow_deepseek_guidance(server, kb) -> None:
    run(make_assistant(server, kb), "杜甫的《登高》写了什么？")
    chat = server.last_chat
    assert [m["role"] for m in chat.messages] == ["user"]  # no system prompt
    prompt = chat.messages[0]["content"]
    assert prompt.index("[K1]") < prompt.index("杜甫的《登高》写了什么？") and "风急天高" in prompt
    assert chat.options["temperature"] == 0.6 and chat.options["top_p"] == 0.95
    assert chat.options["num_ctx"] == 8192  # the model's 128k context, capped for this machine
    assert chat.think is True


def test_history_sends_answers_without_reasoning_and_follow_ups_retrieve_with_context(server, kb) -> None:
    assistant = make_assistant(server, kb)
    history = [Turn("杜甫的《登高》写了什么？", "写秋天登高所见。")]
    events, final = run(assistant, "他还写了什么？", history=history)
    messages = server.last_chat.messages
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == "写秋天登高所见。"
    assert "<think>" not in str(messages)
    found = next(e for e in events if isinstance(e, SourcesFound))
    assert "登高" in found.sources[0].text  # retrieved with the earlier question, not "他还写了什么"


@pytest.mark.parametrize("style", ["inline", "close-only"])
def test_inline_reasoning_forms_are_separated(server, kb, style: str) -> None:
    server.add_model("deepseek-r1:1.5b", thinking=False)
    server.script(
        "deepseek-r1:1.5b", Reply(reasoning="Think.", answer="Answer [K1].", style=style, chunk_size=3)
    )
    events, final = run(make_assistant(server, kb), "杜甫的《登高》写了什么？", model="deepseek-r1:1.5b")
    assert (final.reasoning, final.answer) == ("Think.", "Answer [K1].")
    assert server.last_chat.think is None  # never ask a model without the capability to think
    assert any(isinstance(e, Notice) and "ollama pull deepseek-r1:1.5b" in e.text for e in events)


def test_thinking_can_be_turned_off(server, kb) -> None:
    run(make_assistant(server, kb), "杜甫的《登高》写了什么？", think=False)
    assert server.last_chat.think is False


def test_does_not_support_thinking_is_retried_without_it(server, kb, monkeypatch) -> None:
    server.add_model("deepseek-r1:8b", thinking=False)
    assistant = make_assistant(server, kb)
    # The server's capability list claims thinking, but the template refuses it (an old pull).
    real_show = assistant.backend.show
    monkeypatch.setattr(assistant.backend, "show", lambda m: dataclasses.replace(real_show(m), thinking=True))
    server.script("deepseek-r1:8b", Reply(reasoning="r", answer="Fine.", style="inline"))
    events, final = run(assistant, "hello?", model="deepseek-r1:8b")
    thinks = [c.think for c in server.chats]
    assert thinks == [True, None]
    assert final.answer == "Fine." and final.reasoning == "r"
    assert any(isinstance(e, Notice) and "retried without it" in e.text for e in events)


def test_ollama_not_running_says_how_to_start_it(tmp_path) -> None:
    assistant = Assistant(OllamaBackend("http://127.0.0.1:9"), lambda name: None, default_model=R1)
    events, final = run(assistant, "hi")
    errors = [e.text for e in events if isinstance(e, Notice) and e.level == "error"]
    assert errors and "ollama serve" in errors[0] and final.answer == ""


def test_missing_model_says_how_to_pull_it(server) -> None:
    events, final = run(make_assistant(server), "hi", model="deepseek-r1:32b")
    errors = [e.text for e in events if isinstance(e, Notice) and e.level == "error"]
    assert errors and "assistant models pull deepseek-r1:32b" in errors[0]


def test_cut_stream_keeps_the_partial_answer(server, kb) -> None:
    server.script(
        R1, Reply(reasoning="ok", answer="The first part of a long answer that", cut_after=12, chunk_size=3)
    )
    events, final = run(make_assistant(server, kb), "tell me")
    assert final.interrupted and final.answer.endswith("[answer interrupted]")
    assert len(final.answer) > len("[answer interrupted]")
    assert any(isinstance(e, Notice) and "cut off" in e.text for e in events)


def test_unknown_and_unsupported_citations_are_flagged(server, kb) -> None:
    server.script(R1, Reply(reasoning="", answer="The Eiffel Tower is in Paris [K1]. See also [K9]."))
    _, final = run(make_assistant(server, kb), "Tell me about ducks")
    assert final.citations.unknown_labels == ["K9"]
    assert final.citations.unsupported and final.citations.unsupported[0]["labels"] == ["K1"]


def test_server_side_truncation_is_detected(server, kb) -> None:
    _, final = run(make_assistant(server, kb, num_ctx=64), "杜甫的《登高》写了什么？")
    assert final.stats.num_ctx == 64
    assert any("cut the prompt" in n for n in final.notices)


@pytest.mark.parametrize(
    ("memory_gib", "picked"), [(16.0, R1), (64.0, "deepseek-r1:70b"), (4.0, "deepseek-r1:1.5b")]
)
def test_default_model_is_the_largest_installed_r1_that_fits(server, memory_gib, picked) -> None:
    # The memory is injected: the answer must not depend on the machine running the tests.
    server.add_model("deepseek-r1:1.5b")
    server.add_model("deepseek-r1:70b")
    _, final = run(make_assistant(server, memory_gib=memory_gib), "hi")
    assert final.model == picked
