"""One error contract: a failing Chroma search, a missing embedder and a broken reranker each cost
only themselves (the answer comes with a notice naming the part: in `ask`, `search`, a notification
in the TUI, the records of `bench`); a base that cannot be opened at all leaves nothing to answer
from: every notice and a `Final` in `ask`, one line in `search`, a failed record in `bench` (which
goes on); anything unexpected is one line naming a log file. Front-ends enter
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
from fakes_ollama import FakeOllamaServer, Reply

R1 = "deepseek-r1:7b"
ROOT = Path(__file__).resolve().parents[1]
FAILURES = ("chroma", "embedder", "reranker")
#: What each failure's message must say (the part that tells the user what went wrong).
SAYS = {"chroma": "Chroma at", "embedder": "fake-embed", "reranker": "could not load reranker"}
#: What the search does without the failed part (how each notice ends).
DOES = {
    "chroma": "ranked by words alone",
    "embedder": "ranked by words alone",
    "reranker": "results in fused order",
}
UNREACHABLE = "Chroma at http://127.0.0.1:1 is not answering: start it with `chroma run`"


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
    elif kind == "reranker":
        env["ASSISTANT_RERANKER"] = str(tmp_path / "no-such-cross-encoder")
    else:  # "unreachable": the base itself cannot be opened (its server down, busy, corrupt)
        from assistant import components

        def closed(settings, name):
            raise ChromaConnectionError(UNREACHABLE)

        monkeypatch.setattr(components, "open_kb", closed)


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
def test_ask_answers_without_the_failed_part_with_a_notice(kind, env, server, monkeypatch, tmp_path) -> None:
    break_it(kind, env, server, monkeypatch, tmp_path)
    session = Session(load_settings(environ=env))
    events = list(session.ask("风急天高？", model=R1))
    session.close()
    final = events[-1]
    assert isinstance(final, Final) and final.outcome == "answered" and final.answer == "答案 [K1]。"
    assert final.sources and final.sources[0].title == "登高", "the words alone still find the poem"
    notices = [e for e in events if isinstance(e, Notice)]
    [warning] = [n.text for n in notices if SAYS[kind] in n.text]
    assert warning.endswith(DOES[kind]) and not any(n.level == "error" for n in notices)
    assert server.requests_to("/api/chat")

    result = invoke(cli.app, "ask", "风急天高？", "--model", R1, "--json", env=env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["outcome"] == "answered" and any(SAYS[kind] in n for n in payload["notices"])


def test_ask_with_nothing_left_ends_in_every_notice_and_a_final(env, server, monkeypatch, tmp_path) -> None:
    break_it("unreachable", env, server, monkeypatch, tmp_path)
    session = Session(load_settings(environ=env))
    events = list(session.ask("风急天高？", model=R1))
    session.close()
    final = events[-1]
    assert isinstance(final, Final) and final.outcome == "not_asked" and not final.asked
    notices = [e for e in events if isinstance(e, Notice)]
    assert UNREACHABLE in notices[0].text and "knowledge base 'default'" in notices[0].text
    assert notices[-1].level == "error" and "nothing to answer from" in notices[-1].text
    assert final.notices == tuple(n.text for n in notices)
    assert not server.requests_to("/api/chat"), "the model is not asked without the sources the user wanted"

    result = invoke(cli.app, "ask", "风急天高？", "--model", R1, "--json", env=env)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["outcome"] == "not_asked" and UNREACHABLE in " ".join(payload["notices"])


@pytest.mark.parametrize("kind", FAILURES)
def test_search_goes_on_with_a_notice(kind, env, server, monkeypatch, tmp_path) -> None:
    break_it(kind, env, server, monkeypatch, tmp_path)
    result = invoke(cli.app, "search", "风急天高", env=env)
    assert result.exit_code == 0, result.output
    assert SAYS[kind] in result.stderr and "K1" in result.stdout


def test_search_with_nothing_left_says_one_line(env, server, monkeypatch, tmp_path) -> None:
    break_it("unreachable", env, server, monkeypatch, tmp_path)
    assert_one_clean_line(invoke(cli.app, "search", "风急天高", env=env), UNREACHABLE)


@pytest.mark.parametrize("kind", [*FAILURES, "unreachable"])
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
    if kind == "unreachable":  # nothing left: no answer, and the record says why
        assert all(not r["passed"] and UNREACHABLE in r["error"] for r in records)
    else:  # answered without the failed part, which each record and the run's output name
        assert all(r["passed"] and any(SAYS[kind] in n for n in r["notices"]) for r in records)
        notice = "".join(f"notice: {records[0]['notices'][0]}".split())
        assert "".join(result.stderr.split()).count(notice) == 1, "said once, not once per task"


@pytest.mark.parametrize("kind", [*FAILURES, "unreachable"])
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
        assert any(SAYS.get(kind, UNREACHABLE) in text for text in shown), shown
        assert not any("internal error" in text for text in shown), shown
        message = list(app.screen.query(ChatMessage))[-1]
        assert message.question == "风急天高？"
        if kind != "unreachable":  # answered without the failed part
            assert "答案" in message.answer.source


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
