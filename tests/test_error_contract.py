"""One error contract: a failing Chroma server, a missing embedder and a broken reranker each end in
a notice and a `Final` in `ask`, one line in `search`, a notification in the TUI and a failed record
in `bench` (which goes on); anything unexpected is one line naming a log file. Front-ends enter
the core through `Session` alone."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from assistant import cli
from assistant.chat.events import Final, Notice
from assistant.session import Session
from assistant.settings import load_settings
from vectorstore.chroma import ChromaConnectionError
from vectorstore.errors import AssistantError

from corpus import write_files
from fakes.ollama import FakeOllamaServer, Reply

R1 = "deepseek-r1:7b"
ROOT = Path(__file__).resolve().parents[1]
FAILURES = ("chroma", "embedder", "reranker")
#: What each failure's message must say (the part that tells the user what went wrong).
SAYS = {"chroma": "Chroma at", "embedder": "fake-embed", "reranker": "could not load reranker"}


@pytest.fixture
def server() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.add_model(R1)
        server.script(R1, Reply(reasoning="想。", answer="答案 [K1]。"))
        yield server


@pytest.fixture
def env(home: Path, server: FakeOllamaServer, tmp_path: Path) -> dict[str, str]:
    """A base built with an Ollama embedder on the fake server."""
    env = {
        "ASSISTANT_HOME": str(home),
        "OLLAMA_HOST": server.url(),
        "ASSISTANT_EMBEDDER": "ollama:fake-embed",
    }
    session = Session(load_settings(environ=env))
    notes = write_files(
        tmp_path / "notes", {"poem.md": "# 登高\n\n风急天高猿啸哀。\n", "a.md": "# A\n\nducks\n"}
    )
    session.ingest(notes, "default")
    session.close()
    return env


def break_it(kind: str, env: dict, server: FakeOllamaServer, monkeypatch, tmp_path: Path) -> None:
    if kind == "chroma":
        from vectorstore.kb import KnowledgeBase

        def down(self, *args, **kwargs):
            raise ChromaConnectionError(
                "Chroma at http://127.0.0.1:1 is not answering: start it with `chroma run`"
            )

        monkeypatch.setattr(KnowledgeBase, "dense_search", down)
    elif kind == "embedder":
        from vectorstore import embedders

        monkeypatch.setattr(embedders, "_cache", {})  # the process loaded it while ingesting

        def gone(request, out) -> None:
            out.error(404, 'model "fake-embed" not found, try pulling it first')

        monkeypatch.setattr(server, "_embed", gone)
    else:
        env["ASSISTANT_RERANKER"] = str(tmp_path / "no-such-cross-encoder")


def invoke(app: typer.Typer, *args: str, env: dict) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def assert_one_clean_line(result: Result, says: str) -> None:
    assert result.exit_code == 1, result.output
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    ), result.output
    assert says in result.output, result.output


@pytest.mark.parametrize("kind", FAILURES)
def test_ask_ends_in_a_notice_and_a_final(kind, env, server, monkeypatch, tmp_path) -> None:
    break_it(kind, env, server, monkeypatch, tmp_path)
    session = Session(load_settings(environ=env))
    events = list(session.ask("风急天高？", model=R1))
    session.close()
    final = events[-1]
    assert isinstance(final, Final) and final.outcome == "not_asked" and not final.asked
    errors = [e.text for e in events if isinstance(e, Notice) and e.level == "error"]
    assert len(errors) == 1 and SAYS[kind] in errors[0]
    assert final.notices == tuple(errors)
    assert not server.requests_to("/api/chat"), "the model is not asked without the sources the user wanted"

    result = invoke(cli.app, "ask", "风急天高？", "--model", R1, "--json", env=env)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["outcome"] == "not_asked" and SAYS[kind] in payload["notices"][0]


@pytest.mark.parametrize("kind", FAILURES)
def test_search_says_one_line(kind, env, server, monkeypatch, tmp_path) -> None:
    break_it(kind, env, server, monkeypatch, tmp_path)
    assert_one_clean_line(invoke(cli.app, "search", "风急天高", env=env), SAYS[kind])


@pytest.mark.parametrize("kind", FAILURES)
def test_bench_records_the_failure_and_goes_on(kind, env, server, monkeypatch, tmp_path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: kb-only\ntasks:\n"
        "  - {id: one, prompt: 风急天高？, grader: contains, expected: {any_of: [答案]}, kb: true}\n"
        "  - {id: two, prompt: 猿啸哀？, grader: contains, expected: {any_of: [答案]}, kb: true}\n",
        encoding="utf-8",
    )
    break_it(kind, env, server, monkeypatch, tmp_path)
    out = tmp_path / "report"
    result = invoke(
        cli.app, "bench", "--models", R1, "--suite", str(suite), "--kb", "default", "--out", str(out), env=env
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["task"] for r in records] == ["one", "two"], "one failure does not stop the run"
    assert all(not r["passed"] and SAYS[kind] in r["error"] for r in records)


@pytest.mark.parametrize("kind", FAILURES)
async def test_chat_app_shows_the_failure_as_a_notification(kind, env, server, monkeypatch, tmp_path) -> None:
    from tui.app import AssistantApp
    from tui.widgets.message import ChatMessage
    from tui.widgets.prompt import PromptInput

    break_it(kind, env, server, monkeypatch, tmp_path)
    settings = load_settings(environ=env)
    app = AssistantApp(settings, Session(settings))
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.screen.query_one(PromptInput)
        prompt.text = "风急天高？"
        prompt.focus()
        await pilot.press("enter")
        for _ in range(400):
            await pilot.pause(0.05)
            worker = app.chat.answering
            if worker is not None and worker.is_finished:
                break
        else:
            raise AssertionError("the answer did not finish")
        await pilot.pause(0.1)
        shown = [str(n.message) for n in app._notifications]
        assert any(SAYS[kind] in text for text in shown), shown
        assert not any("internal error" in text for text in shown), shown
        assert list(app.screen.query(ChatMessage))[-1].question == "风急天高？"


def test_an_unexpected_error_is_one_line_and_a_log_file(home: Path, capsys) -> None:
    def boom() -> None:
        """Fails as a bug would."""
        raise ZeroDivisionError("deliberate")

    app = cli.build_app([boom])
    with pytest.raises(SystemExit) as exit_info:
        import sys

        sys.argv = ["assistant", "--home", str(home), "boom"]
        cli.run(app)
    assert exit_info.value.code == 1
    shown = capsys.readouterr().err
    log = home / "logs" / "errors.log"
    assert "ZeroDivisionError: deliberate" in shown and str(log) in " ".join(shown.split())
    assert "Traceback" not in shown
    assert "Traceback" in log.read_text() and "deliberate" in log.read_text()


def test_an_actionable_error_that_escapes_a_command_is_one_line(home: Path, capsys) -> None:
    def refuse() -> None:
        """Fails as a user's mistake would."""
        raise AssistantError("the folder is not there: give an existing folder")

    with pytest.raises(SystemExit):
        import sys

        sys.argv = ["assistant", "--home", str(home), "refuse"]
        cli.run(cli.build_app([refuse]))
    shown = capsys.readouterr().err
    assert "the folder is not there" in shown and "Traceback" not in shown
    assert not (home / "logs").exists()


def test_front_ends_enter_the_core_through_session_alone() -> None:
    # The parts behind Session; and ingest's events and the R1 catalogue, which Session translates
    # and merges (a front-end redoing either would drift from the other front-end).
    forbidden = (
        "assistant.components",
        "vectorstore",
        "ingest",
        "assistant.chat.backends",
        "assistant.chat.catalog",
        "assistant.web",
    )
    files = sorted((ROOT / "assistant" / "cli").rglob("*.py")) + sorted((ROOT / "tui").rglob("*.py"))
    assert len(files) > 10
    offenders = []
    for path in files:
        package = path.relative_to(ROOT).parent.parts  # where a relative import starts
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Names imported for type hints alone (`if TYPE_CHECKING:`) load nothing: not an entry.
        hints = {
            id(inner)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
            for stmt in block.body
            for inner in ast.walk(stmt)
        }
        for node in ast.walk(tree):
            if id(node) in hints:
                continue
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package[: len(package) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.startswith(forbidden)]
    assert not offenders, offenders
