"""One Session shared by threads, as the chat app shares it between its warm-up, answer and ingest
workers: set-up happens once, an ingest never closes a retriever under a running answer, and a
retired retriever is closed once its last search is done."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import components
from assistant.chat.events import Final
from assistant.components import RetrieverCache
from assistant.ingest_events import FileProcessed
from assistant.session import Session
from assistant.settings import load_settings

from corpus import write_files
from fakes_ollama import FakeOllamaServer, Reply

R1 = "deepseek-r1:7b"
POEM = "# 登高\n\n杜甫《登高》：风急天高猿啸哀，渚清沙白鸟飞回。\n"
DUCKS = "# Ducks\n\nA duckling is a young duck in downy plumage.\n"


@pytest.fixture
def server() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.add_model(R1)
        server.script(R1, Reply(reasoning="想一想。", answer="《登高》写秋景 [K1]。"))
        yield server


@pytest.fixture
def session(home: Path, server: FakeOllamaServer, tmp_path: Path) -> Iterator[Session]:
    settings = load_settings(
        environ={"ASSISTANT_HOME": str(home), "OLLAMA_HOST": server.url(), "ASSISTANT_EMBEDDER": "minilm"}
    )
    session = Session(settings)
    session.ingest(write_files(tmp_path / "notes", {"poem.md": POEM}), "default")
    yield session
    session.close()


def _answer(session: Session, question: str) -> Final:
    events = list(session.ask(question, model=R1))
    assert isinstance(events[-1], Final)
    return events[-1]


def test_ask_during_warm_up_opens_the_base_once(session, monkeypatch) -> None:
    opened: list[str] = []
    real_open = components.open_kb

    def counting_open(settings, name=None, **kwargs):
        opened.append(name)
        return real_open(settings, name, **kwargs)

    monkeypatch.setattr(components, "open_kb", counting_open)
    start = threading.Barrier(3)
    errors: list[BaseException] = []
    finals: list[Final] = []

    def warm() -> None:
        start.wait()
        session.warm_up("default")

    def ask() -> None:
        start.wait()
        finals.append(_answer(session, "杜甫的《登高》写了什么？"))

    threads = [threading.Thread(target=_catching(f, errors)) for f in (warm, ask, ask)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(finals) == 2 and all(f.answer for f in finals)
    assert all(f.sources for f in finals)
    assert opened == ["default"], "three threads, one base opened"


def test_ask_while_an_ingest_runs_into_the_same_base(session, tmp_path) -> None:
    first = _answer(session, "杜甫的《登高》写了什么？")  # the retriever is open and cached
    assert first.sources
    retriever = session._retrievers("default")

    inside = threading.Event()
    go_on = threading.Event()

    def on_event(event) -> None:
        if isinstance(event, FileProcessed):
            inside.set()
            assert go_on.wait(30)

    folder = write_files(tmp_path / "more", {"poem.md": POEM, "ducks.md": DUCKS})
    errors: list[BaseException] = []
    ingest = threading.Thread(target=_catching(lambda: session.ingest(folder, "default", on_event), errors))
    ingest.start()
    assert inside.wait(60)
    during = _answer(session, "杜甫的《登高》写了什么？")  # mid-ingest: the base still answers
    go_on.set()
    ingest.join(60)
    assert not errors, errors
    assert during.answer and during.sources

    assert retriever.closed, "the ingest retired the old retriever, idle, so it is closed"
    after = session._retrievers("default")
    assert after is not retriever and not after.closed
    hits = after.search("duckling young duck", k=3)
    assert any("duck" in s.text.lower() for s in hits.sources), "the new retriever sees the new file"


def test_a_retired_retriever_closes_after_its_running_search(home: Path) -> None:
    class SlowRetriever:
        kb_retriever = None

        def __init__(self) -> None:
            self.entered = threading.Event()
            self.release = threading.Event()

        def search(self, query: str, **kwargs) -> str:
            self.entered.set()
            assert self.release.wait(30)
            return f"found {query}"

    slow = SlowRetriever()
    closed: list[str] = []

    class FakeKB:
        def close(self) -> None:
            closed.append("kb")

    shared = components._Shared(slow, FakeKB())
    result: list[str] = []
    t = threading.Thread(target=lambda: result.append(shared.search("q")))
    t.start()
    assert slow.entered.wait(30)
    shared.retire()
    assert not shared.closed and not closed, "still in use: not closed yet"
    slow.release.set()
    t.join(30)
    assert result == ["found q"]
    assert shared.closed and closed == ["kb"]
    shared.retire()
    assert closed == ["kb"], "closed once"


def test_a_closed_cache_refuses_new_retrievers(home: Path) -> None:
    cache = RetrieverCache(load_settings(environ={"ASSISTANT_HOME": str(home)}))
    cache.close()
    with pytest.raises(RuntimeError, match="closed"):
        cache("default")


def _catching(fn, errors: list[BaseException]):
    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # collected and asserted in the test's own thread
            errors.append(exc)

    return run
