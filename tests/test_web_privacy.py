"""Only the current question leaves the machine: a chat's follow-ups search the web for
themselves alone, never with earlier questions or answers (even ones asked with web search off),
while the local knowledge base may still use that context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.chat.backends.ollama import OllamaBackend
from assistant.chat.events import Final
from assistant.chat.pipeline import AskOptions, Assistant
from assistant.chat.prompt import Turn
from assistant.retrieval import Retriever
from assistant.web import WebOptions
from assistant.web.engines.searxng import SearxngEngine
from ingest import sync

from corpus import write_files
from fakes_ollama import FakeOllamaServer
from fakes_pages import PageServer
from fakes_searxng import FakeSearxng, Hit

R1 = "deepseek-r1:7b"


@pytest.fixture
def server() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.add_model(R1)
        server.script(R1, "Ducks migrate in autumn.")
        yield server


def turns() -> list[tuple[str, str, bool]]:
    """Earlier turns with private details (question, answer, asked with web search on?)."""
    return [
        (
            "What did Dr. Quillfeather write about patient 4471-Z's kidney results?",
            "They were normal.",
            False,
        ),
        ("张伟的银行账户 6222-0300-1234 余额是多少？", "资料中没有。", False),
        ("Where does Ms. Brightwater live?", "At 12 Heronsgate Lane.", True),
    ]


def secrets_of(question: str, answer: str) -> list[str]:
    words = [w.strip("?？。.,'s") for w in f"{question} {answer}".split()]
    return [w for w in words if len(w) >= 6] + [question, answer]


def test_no_earlier_turn_reaches_the_search_engine_or_the_pages(
    server, open_kb, tmp_path: Path, searxng: FakeSearxng, pages: PageServer
) -> None:
    kb = open_kb()
    sync(kb, write_files(tmp_path / "notes", {"ducks.md": "# Ducks\n\nDucks migrate south in autumn.\n"}))
    searxng.hits = [Hit(pages.url("/ducks"), "Mallards", "Mallards migrate.")]
    retriever = Retriever(
        kb, engine=SearxngEngine(searxng.url()), web_options=WebOptions(budget=5, policy=pages.policy)
    )
    assistant = Assistant(OllamaBackend(server.url()), lambda name: retriever, options=AskOptions())
    history: list[Turn] = []
    for question, answer, web in turns():
        events = list(assistant.ask(question, web=web, history=history))
        assert isinstance(events[-1], Final)
        history.append(Turn(question, answer))
    for follow_up in ["What about their ducks?", "他们还养了什么？", "And this one?"]:
        searxng.requests.clear()
        pages.requests.clear()
        events = list(assistant.ask(follow_up, web=True, history=history))
        assert isinstance(events[-1], Final)
        assert [r.param("q") for r in searxng.searches] == [follow_up]
        assert pages.paths() == ["/ducks"]
        sent = "\n".join(r.as_text() for r in searxng.requests + pages.requests)
        for question, answer, _ in turns():
            for secret in secrets_of(question, answer):
                assert secret not in sent, secret
    # The model, on this machine, still gets the conversation.
    assert "Heronsgate" in server.last_chat.body.decode("utf-8")
