"""`assistant ask -c` / `--conversation ID` go on with a conversation of the chat app's store (as
`llm -c`): the earlier turns are sent to the model as the chat app sends them, never to the web,
and the new exchange is saved into that conversation; `assistant history` lists the
conversations and `history show ID` prints one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from assistant.cli import app
from assistant.conversations import Exchange
from assistant.session import Session
from assistant.settings import load_settings

from fakes_ollama import FakeOllamaServer, Reply
from fakes_searxng import FakeSearxng, Hit

R1 = "deepseek-r1:7b"


def run(*args: str, env: dict[str, str]) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **env})


@pytest.fixture
def ollama() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.add_model(R1)
        server.add_model("deepseek-r1:1.5b")
        server.script(
            R1, lambda request: Reply(reasoning="Hmm.", answer=f"Answer to: {request.prompt[-40:]}")
        )
        server.script("deepseek-r1:1.5b", Reply(reasoning="", answer="Small answer."))
        yield server


@pytest.fixture
def env(home: Path, ollama: FakeOllamaServer) -> dict[str, str]:
    return {"OLLAMA_HOST": ollama.url(), "ASSISTANT_MODEL": R1}


def user_turns(request) -> list[str]:
    return [m["content"] for m in request.messages if m["role"] == "user"]


def test_ask_c_goes_on_with_the_last_conversation_and_history_lists_it(
    env: dict[str, str], ollama: FakeOllamaServer
) -> None:
    first = run("ask", "Who painted the Night Watch?", env=env)
    assert first.exit_code == 0, first.output
    assert "conversation 1" in first.stderr and "ask -c" in first.stderr
    assert len(ollama.last_chat.messages) == 1  # a new conversation: no earlier turns

    second = run("ask", "-c", "When did he paint it?", "--json", env=env)
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["conversation"] == 1
    sent = ollama.last_chat.messages
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == "Who painted the Night Watch?"
    assert sent[1]["content"].startswith("Answer to:") and "Hmm." not in sent[1]["content"]  # no reasoning
    assert "When did he paint it?" in sent[2]["content"]

    listed = run("history", "--json", env=env)
    assert listed.exit_code == 0, listed.output
    [conversation] = json.loads(listed.stdout)
    assert conversation["id"] == 1 and conversation["turns"] == 2 and conversation["model"] == R1
    assert conversation["title"] == "Who painted the Night Watch?" and conversation["kb"] == "default"
    assert conversation["updated"].endswith("Z")

    table = run("history", env=env)
    assert table.exit_code == 0 and "Who painted the Night Watch?" in table.stdout
    row = next(line for line in table.stdout.splitlines() if "Night Watch" in line)
    assert row.split()[0] == "1" and row.split()[-1] == "2" and "just now" in row

    shown = run("history", "show", "1", env=env)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.index("Who painted the Night Watch?") < shown.stdout.index("When did he paint it?")
    assert "2 turns" in shown.stdout
    exchanges = json.loads(run("history", "show", "1", "--json", env=env).stdout)["exchanges"]
    assert [e["question"] for e in exchanges] == ["Who painted the Night Watch?", "When did he paint it?"]


def test_no_log_answers_without_saving_even_when_going_on_with_a_conversation(
    env: dict[str, str], ollama: FakeOllamaServer
) -> None:
    first = run("ask", "Who painted the Night Watch?", env=env)
    assert first.exit_code == 0, first.output
    private = run("ask", "-c", "--no-log", "Where does it hang?", "--json", env=env)
    assert private.exit_code == 0, private.output
    assert json.loads(private.stdout)["conversation"] is None
    assert [m["role"] for m in ollama.last_chat.messages] == ["user", "assistant", "user"]  # went on
    alone = run("ask", "--no-log", "What is tempera?", env=env)
    assert alone.exit_code == 0 and "conversation" not in alone.stderr
    [conversation] = json.loads(run("history", "--json", env=env).stdout)
    assert conversation["turns"] == 1  # only the first question was kept


def test_conversation_id_continues_a_chat_app_conversation_with_its_model(
    home: Path, env: dict[str, str], ollama: FakeOllamaServer
) -> None:
    # Two conversations written as the chat app writes them (through Session); the older one is
    # picked by id, and goes on with its own model.
    session = Session(load_settings(environ={"ASSISTANT_HOME": str(home)}))
    try:
        older = session.save_exchange(
            None, Exchange("Name a Dutch painter.", "Rembrandt.", model="deepseek-r1:1.5b"), kb="default"
        )
        newer = session.save_exchange(None, Exchange("Name a river.", "The Rhine.", model=R1), kb="default")
    finally:
        session.close()
    result = run("ask", "--conversation", str(older), "And another one?", env=env)
    assert result.exit_code == 0, result.output
    assert ollama.last_chat.model == "deepseek-r1:1.5b"
    assert user_turns(ollama.last_chat)[0] == "Name a Dutch painter."
    assert "Rembrandt." in [m["content"] for m in ollama.last_chat.messages]
    turns = {c["id"]: c["turns"] for c in json.loads(run("history", "--json", env=env).stdout)}
    assert turns == {older: 2, newer: 1}
    # -c now takes the conversation just continued: the most recently updated one.
    run("ask", "-c", "A third?", env=env)
    assert user_turns(ollama.last_chat)[:2] == ["Name a Dutch painter.", "And another one?"]


def test_earlier_turns_never_go_to_the_web(env: dict[str, str], ollama: FakeOllamaServer) -> None:
    searxng = FakeSearxng().start()
    try:
        searxng.hits = [Hit("http://127.0.0.1:9/x", "X", "Something.")]
        web = {
            **env,
            "ASSISTANT_SEARCH_ENGINE": "searxng",
            "ASSISTANT_SEARXNG_URL": searxng.url(),
            "ASSISTANT_WEB_BUDGET": "3",
        }
        assert run("ask", "My secret project is called Bluebird.", env=web).exit_code == 0
        result = run("ask", "-c", "What is the weather in Oslo?", "--web", env=web)
        assert result.exit_code == 0, result.output
        assert searxng.searches, "the web was not searched"
        for request in searxng.searches:
            assert "Bluebird" not in request.target and "secret" not in request.target
        assert "Bluebird" in ollama.last_chat.messages[0]["content"]  # the model has it
    finally:
        searxng.stop()


def test_bad_conversation_options(env: dict[str, str], ollama: FakeOllamaServer) -> None:
    missing = run("ask", "--conversation", "42", "Hello?", env=env)
    assert (
        missing.exit_code == 1
        and "no conversation 42" in missing.stderr
        and "assistant history" in missing.stderr
    )
    assert ollama.chats == []  # nothing was asked
    both = run("ask", "-c", "--conversation", "1", "Hello?", env=env)
    assert both.exit_code == 2 and "not both" in both.stderr
    assert run("history", "show", "7", env=env).exit_code == 1
    assert run("history", "show", "seven", env=env).exit_code == 2
    assert "no conversations yet" in run("history", env=env).stderr

    # -c with no conversation yet starts one, and says so.
    started = run("ask", "-c", "Hello?", env=env)
    assert started.exit_code == 0 and "no earlier conversation" in started.stderr
    assert len(json.loads(run("history", "--json", env=env).stdout)) == 1
