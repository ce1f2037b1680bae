"""One missing part costs only itself (issue 19): with the Chroma server stopped while the app runs
and the web on, `ask` answers from the web; with the search engine down, rate-limited or answering
garbage, from the knowledge base; with the embedder gone, by words; only when nothing is left, no
answer, with every notice. Against a real `chroma run`, the fake Ollama and the fake SearxNG."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from assistant.chat.events import Final, Notice
from assistant.cli import app
from assistant.session import Session
from assistant.settings import load_settings

from corpus import write_files
from fakes_chroma import chroma_process
from fakes_loopback import closed_port_url
from fakes_ollama import FakeOllamaServer, Reply
from fakes_searxng import FakeSearxng, Hit

R1 = "deepseek-r1:7b"
QUESTION = "Where do mallard ducks fly in autumn?"
NOTES = {
    "ducks.md": "# Ducks\n\nMallard ducks fly south in autumn, to the lakes of the warm south.\n",
    "owls.md": "# Owls\n\nOwls hunt at night and sleep in hollow trees by day.\n",
}
# The page is on a closed port (refused as loopback): its snippet is the web passage.
WEB_HIT = Hit("http://127.0.0.1:9/mallards", "Mallard migration", "Mallard ducks fly south in autumn.")


def run(*args: str, env: dict[str, str]) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "300", **env})


@pytest.fixture
def ollama() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.add_model(R1)
        server.script(R1, Reply(reasoning="想。", answer="South [1]."))
        yield server


@pytest.fixture
def env(home: Path, ollama: FakeOllamaServer, searxng: FakeSearxng) -> dict[str, str]:
    searxng.hits = [WEB_HIT]
    return {
        "ASSISTANT_HOME": str(home),
        "OLLAMA_HOST": ollama.url(),
        "ASSISTANT_EMBEDDER": "ollama:fake-embed",
        "ASSISTANT_SEARCH_ENGINE": "searxng",
        "ASSISTANT_SEARXNG_URL": searxng.url(),
        "ASSISTANT_WEB_BUDGET": "3",
    }


def ingest(env: dict[str, str], folder: Path, kb: str = "default") -> None:
    session = Session(load_settings(environ=env))
    try:
        assert session.ingest(folder, kb).files_added == len(NOTES)
    finally:
        session.close()


def asked(session: Session, **kwargs) -> tuple[Final, list[Notice]]:
    events = list(session.ask(QUESTION, model=R1, **kwargs))
    final = events[-1]
    assert isinstance(final, Final)
    return final, [e for e in events if isinstance(e, Notice)]


def ranked_without_it(notice: str) -> bool:
    """The notice of a failed embedder: ranked by words, or by the base's other (English) index."""
    return notice.endswith(("ranked by words alone", "ranked without it"))


def kinds(final: Final) -> set[str]:
    return {s.kind for s in final.sources}


@pytest.mark.slow
def test_a_chroma_server_stopped_while_the_app_runs_costs_only_the_knowledge_base(
    env: dict[str, str], tmp_path: Path, ollama: FakeOllamaServer
) -> None:
    folder = write_files(tmp_path / "notes", NOTES)
    (tmp_path / "chroma").mkdir()
    with chroma_process(tmp_path / "chroma") as url:
        env = {**env, "ASSISTANT_CHROMA_URL": url}
        ingest(env, folder, "served")
        session = Session(load_settings(environ=env))
        before, notices = asked(session, kb="served", web=True)
        assert before.outcome == "answered" and kinds(before) == {"kb", "web"}, notices
    try:  # the server is stopped now; the same session asks again
        final, notices = asked(session, kb="served", web=True)
        # The base's local copy still finds the passage by its words; the web answers too.
        assert final.outcome == "answered" and "web" in kinds(final), [n.text for n in notices]
        [said] = [n.text for n in notices if url in n.text]
        assert "chroma run" in said and said.endswith("ranked by words alone")
        assert "Mallard ducks fly south" in ollama.last_chat.prompt

        # Without the web, the local copy alone answers, with the same notice.
        final, notices = asked(session, kb="served", web=False)
        assert final.outcome == "answered" and kinds(final) == {"kb"}
        assert final.sources[0].title == "Ducks" and [n.text for n in notices] == [said]
    finally:
        session.close()

    # A new process, the server still down: the same answer from the web, the same notice.
    result = run("ask", QUESTION, "--kb", "served", "--web", "--model", R1, "--json", env=env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["outcome"] == "answered" and {s["kind"] for s in payload["sources"]} == {"web"}
    assert any("knowledge base 'served'" in n and url in n for n in payload["notices"])
    shown = run("search", QUESTION, "--kb", "served", "--web", env=env)
    assert shown.exit_code == 0 and "W1" in shown.stdout and "knowledge base 'served'" in shown.stderr


@pytest.mark.parametrize(
    ("breakage", "says"),
    [
        ({"status": 500}, "web search failed: SearxNG at"),
        ({"status": 429}, "web search unavailable"),
        ({"garbage": "<html>not json"}, "web search failed"),
        ({"garbage": '{"results": "no list"}'}, "web search failed"),
        ({"closed": True}, "web search failed: SearxNG at"),  # nothing listens at its URL
    ],
)
def test_a_search_engine_down_or_garbled_costs_only_the_web(
    breakage: dict, says: str, env: dict[str, str], tmp_path: Path, searxng: FakeSearxng
) -> None:
    ingest(env, write_files(tmp_path / "notes", NOTES))
    for name, value in breakage.items():
        if name == "closed":
            env = {**env, "ASSISTANT_SEARXNG_URL": closed_port_url()}
        else:
            setattr(searxng, name, value)
    session = Session(load_settings(environ=env))
    try:
        final, notices = asked(session, web=True)
    finally:
        session.close()
    assert final.outcome == "answered" and kinds(final) == {"kb"}
    assert final.sources[0].title == "Ducks"
    [said] = [n.text for n in notices if says in n.text]
    assert said.endswith("answering from the knowledge base") and notices[0].level == "warning"

    result = run("ask", QUESTION, "--web", "--model", R1, env=env)
    assert result.exit_code == 0, result.output
    assert says in result.stderr and "South" in result.stdout


def test_an_embedder_gone_ranks_by_words_in_ask_and_search(
    env: dict[str, str], tmp_path: Path, ollama: FakeOllamaServer, monkeypatch
) -> None:
    from vectorstore import embedders

    ingest(env, write_files(tmp_path / "notes", NOTES))
    monkeypatch.setattr(embedders, "_cache", {})  # this process loaded it while ingesting
    monkeypatch.setattr(ollama, "_embed", lambda request, out: out.error(500, "the embedding runner crashed"))
    for web in (False, True):
        session = Session(load_settings(environ=env))
        try:
            final, notices = asked(session, web=web)
        finally:
            session.close()
        assert final.outcome == "answered" and "Ducks" in [s.title for s in final.sources]
        assert any("fake-embed" in n.text and ranked_without_it(n.text) for n in notices), notices
        assert not any(n.level == "error" for n in notices)
    result = run("search", QUESTION, "--json", env=env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["hits"][0]["title"] == "Ducks"
    assert any("fake-embed" in n and ranked_without_it(n) for n in payload["notices"])


def test_nothing_left_is_no_answer_with_every_notice(
    env: dict[str, str], searxng: FakeSearxng, ollama: FakeOllamaServer
) -> None:
    env = {**env, "ASSISTANT_CHROMA_URL": "http://127.0.0.1:9"}  # nothing listens there
    searxng.status = 500
    result = run("ask", QUESTION, "--web", "--model", R1, "--json", env=env)
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert payload["outcome"] == "not_asked" and not ollama.chats
    text = " | ".join(payload["notices"])
    assert "http://127.0.0.1:9" in text and "web search failed" in text and "nothing to answer from" in text
    assert "answering from the" not in text, "nothing was left to answer from"
