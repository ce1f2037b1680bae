"""Shared fixtures: an isolated home per test, the shared data folder, knowledge bases, fakes
(Ollama, a SearxNG instance, a web server with awkward pages), all on loopback."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.settings import ENV_VARS
from vectorstore import KnowledgeBase
from vectorstore.embedders import MANY_QUERIES, Embedder, make_embedder

from corpus import DATA
from fakes_chroma import chroma_process
from fakes_ollama import FakeOllamaServer
from fakes_pages import PageServer
from fakes_searxng import FakeSearxng

#: Every variable the settings read (web search ones included), so the caller's never leak in.
_SETTINGS_ENV = tuple(ENV_VARS)


def pytest_configure(config: pytest.Config) -> None:
    if not DATA.is_dir():
        raise pytest.UsageError(f"shared test data not found at {DATA}")


#: A Rich console made with COLUMNS set keeps that width for good, and the CLI's consoles are made
#: when the test modules import it. Without COLUMNS while they are collected, the consoles read it
#: when they print, so a test that fixes its own (CliRunner(env={"COLUMNS": ...})) gets it; the
#: caller's COLUMNS comes back for the run, for every test that does not fix one.
_CALLER_COLUMNS = os.environ.pop("COLUMNS", None)


def pytest_collection_finish(session: pytest.Session) -> None:
    if _CALLER_COLUMNS is not None:
        os.environ["COLUMNS"] = _CALLER_COLUMNS


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own ASSISTANT_HOME and none of the caller's ASSISTANT_* settings."""
    for var in _SETTINGS_ENV:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("ASSISTANT_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def _one_shot_query_engines() -> Iterator[None]:
    """A test that warms up a session (the chat app, the MCP server) marks the process as one that
    asks many queries; the next test starts as a one-shot command again."""
    yield
    MANY_QUERIES.clear()


@pytest.fixture(scope="session")
def minilm() -> Embedder:
    """The fast offline English embedder, loaded once per session."""
    return make_embedder("minilm")


@pytest.fixture
def open_kb(home: Path, minilm: Embedder) -> Iterator[Callable[..., KnowledgeBase]]:
    """Open knowledge bases (minilm unless told otherwise); all are closed after the test."""
    opened: list[KnowledgeBase] = []

    def _open(name: str = "default", *, at: Path | None = None, **kwargs) -> KnowledgeBase:
        kwargs.setdefault("embedder", "minilm")
        kb = KnowledgeBase.open(at or home, name, **kwargs)
        opened.append(kb)
        return kb

    yield _open
    for kb in opened:
        kb.close()


@pytest.fixture(scope="session")
def fake_ollama() -> Iterator[FakeOllamaServer]:
    server = FakeOllamaServer().start()
    yield server
    server.stop()


@pytest.fixture
def searxng() -> Iterator[FakeSearxng]:
    """A fresh fake SearxNG (no results until a test sets `hits`), stopped after the test."""
    server = FakeSearxng().start()
    yield server
    server.stop()


@pytest.fixture
def pages() -> Iterator[PageServer]:
    """The page server; its slow page gives up when the test ends."""
    server = PageServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` on loopback, one per test module."""
    with chroma_process(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url
