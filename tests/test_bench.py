"""`assistant bench`: suites, the run against scripted good and bad models on the fake Ollama,
resuming, the report (JSON, Markdown, chart), comparing reports, and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_graders import FROZEN_SNAKE, GOOD_ACROSTIC, SEVEN_B_DRIFT, WORKING_SNAKE
from typer.testing import CliRunner

from assistant.bench.report import compare, write_report
from assistant.bench.runner import RESULTS, load_records, run_bench
from assistant.bench.suite import SuiteError, builtin_suites, load_suite
from assistant.cli import app
from assistant.session import Session
from assistant.settings import load_settings

from cli_text import unboxed
from fakes_ollama import FakeOllamaServer, Reply

GOOD, BAD = "deepseek-r1:14b", "deepseek-r1:1.5b"


def good_reply(request) -> Reply:
    prompt = request.prompt
    if "藏头诗" in prompt:
        return Reply(reasoning="先定每行首字。", answer=GOOD_ACROSTIC)
    if "鸡和兔子" in prompt:
        return Reply(reasoning="2x+4y=76, x+y=25。", answer="鸡12只，兔13只。\\boxed{鸡12只，兔13只}")
    if "三棱柱" in prompt:
        return Reply(reasoning="768+512√2。", answer="表面积为 \\boxed{768 + 512\\sqrt{2}}")
    if "贪吃蛇" in prompt:
        return Reply(reasoning="写一个 canvas 游戏。", answer=WORKING_SNAKE)
    if "17 × 23" in prompt:
        return Reply(reasoning="17*23=391", answer="\\boxed{391}")
    if "3倍" in prompt:
        return Reply(reasoning="(40-7)/3=11", answer="\\boxed{11}")
    if "hexagon" in prompt:
        return Reply(reasoning="(6-2)*180", answer="\\boxed{720}")
    if "登高" in prompt:
        return Reply(reasoning="网页引用了原诗。", answer="诗中写“风急天高猿啸哀，渚清沙白鸟飞回”[W1]。")
    return Reply(reasoning="", answer="I do not know.")


def bad_reply(request) -> Reply:
    prompt = request.prompt
    if "藏头诗" in prompt:
        return Reply(reasoning="", answer=SEVEN_B_DRIFT)
    if "贪吃蛇" in prompt:
        return Reply(reasoning="", answer=FROZEN_SNAKE)
    if "鸡和兔子" in prompt:
        return Reply(reasoning="", answer="鸡12只，兔13只。")  # the review: even 7B gets this right
    return Reply(reasoning="嗯。", answer="\\boxed{42}")


@pytest.fixture
def ollama() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.add_model(GOOD, tokens_per_second=12)
        server.add_model(BAD, tokens_per_second=60)
        server.script(GOOD, good_reply)
        server.script(BAD, bad_reply)
        yield server


@pytest.fixture
def session(home: Path, ollama: FakeOllamaServer) -> Iterator[Session]:
    session = Session(load_settings(environ={"ASSISTANT_HOME": str(home), "OLLAMA_HOST": ollama.url()}))
    yield session
    session.close()


def test_builtin_suites_load_and_cover_the_review_scenarios() -> None:
    assert {"builtin", "docs-kb"} <= set(builtin_suites())
    suite = load_suite("builtin")
    graders = {t.id: t.grader for t in suite.tasks}
    assert graders["acrostic"] == "acrostic" and graders["snake"] == "snake"
    assert graders["chickens-rabbits"] == "named_numbers" and graders["prism"] == "number"
    assert next(t for t in suite.tasks if t.id == "denggao-web").web


def test_user_suites_in_yaml_or_json_and_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "mine.json").write_text(
        json.dumps(
            {"name": "mine", "tasks": [{"prompt": "2+2?", "grader": "number", "expected": {"value": 4}}]}
        )
    )
    suite = load_suite(str(tmp_path / "mine.json"))
    assert suite.name == "mine" and suite.tasks[0].id == "task-1"
    (tmp_path / "bad.yaml").write_text("tasks:\n  - prompt: hi\n    grader: vibes\n")
    with pytest.raises(SuiteError, match="unknown grader 'vibes'"):
        load_suite(str(tmp_path / "bad.yaml"))
    with pytest.raises(SuiteError, match="no suite 'nope'"):
        load_suite("nope")


def test_good_and_bad_models_are_told_apart(session: Session, tmp_path: Path) -> None:
    suite = load_suite("builtin")
    out = tmp_path / "report"
    records = run_bench(session, [GOOD, BAD], suite, out, repeat=1, web=False)
    assert len(records) == 2 * len(suite.tasks)
    summary = write_report(out, records)
    good, bad = summary[GOOD], summary[BAD]
    assert good["tasks"]["acrostic"]["pass_rate"] == 1 and bad["tasks"]["acrostic"]["pass_rate"] == 0
    assert good["tasks"]["snake"]["pass_rate"] == 1 and bad["tasks"]["snake"]["pass_rate"] == 0
    assert bad["tasks"]["chickens-rabbits"]["pass_rate"] == 1
    assert good["quality"] > bad["quality"]
    assert good["tokens_per_second"] == pytest.approx(12, rel=0.05)
    assert bad["tokens_per_second"] == pytest.approx(60, rel=0.05)
    assert good["tasks"]["prism"]["reasoning_seconds"] is not None
    # web off: the networked task is marked as not verified
    assert "web search was off" in " ".join(good["tasks"]["denggao-web"]["unverified"])
    for name in ("results.json", "summary.md", "chart.svg", RESULTS, "suite.json"):
        assert (out / name).is_file()
    assert GOOD in (out / "chart.svg").read_text() and "| acrostic |" in (out / "summary.md").read_text()


def test_interrupted_run_keeps_results_and_resumes(session: Session, ollama, tmp_path: Path) -> None:
    suite = load_suite("builtin")
    out = tmp_path / "report"
    seen = []

    def stop_after_three(record, resumed) -> None:
        seen.append(record)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_bench(session, [GOOD], suite, out, repeat=2, web=False, on_record=stop_after_three)
    assert len(load_records(out)) == 3
    chats_before = len(ollama.chats)
    resumed = []
    records = run_bench(
        session, [GOOD], suite, out, repeat=2, web=False, on_record=lambda r, k: resumed.append(k)
    )
    assert len(records) == 2 * len(suite.tasks) and resumed.count(True) == 3
    assert len(ollama.chats) - chats_before == 2 * len(suite.tasks) - 3
    assert write_report(out)[GOOD]["tasks"]["acrostic"]["stability"] == 1.0


def test_networked_summary_task_with_web_search(home, ollama, searxng, pages, tmp_path: Path) -> None:
    from fakes_searxng import Hit

    searxng.hits = [Hit(pages.url("/denggao"), "杜甫《登高》", "《登高》是七言律诗")]
    settings = load_settings(
        environ={
            "ASSISTANT_HOME": str(home),
            "OLLAMA_HOST": ollama.url(),
            "ASSISTANT_SEARCH_ENGINE": "searxng",
            "ASSISTANT_SEARXNG_URL": searxng.url(),
            "ASSISTANT_ALLOW_PRIVATE_URLS": "1",
        }
    )
    suite = load_suite("builtin")
    web_only = type(suite)(suite.name, tuple(t for t in suite.tasks if t.web), suite.path)
    session = Session(settings)
    records = run_bench(session, [GOOD, BAD], web_only, tmp_path / "web", repeat=2)
    session.close()
    good = [r for r in records if r.model == GOOD]
    assert all(r.passed for r in good), [r.detail for r in good]
    assert not any(r.passed for r in records if r.model == BAD)
    assert [r.params.get("q") for r in searxng.searches][0] == ["杜甫的《登高》"]


def test_compare_two_reports(session: Session, tmp_path: Path) -> None:
    suite = load_suite("builtin")
    run_bench(session, [GOOD], suite, tmp_path / "a", web=False)
    run_bench(session, [GOOD, BAD], suite, tmp_path / "b", web=False)
    table = compare(tmp_path / "b", tmp_path / "a")
    assert f"| {GOOD} |" in table and "+0.00" in table and f"| {BAD} |" in table


def test_cli_bench_and_report(home, ollama, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"ASSISTANT_HOME": str(home), "OLLAMA_HOST": ollama.url()}
    suite = tmp_path / "small.yaml"
    suite.write_text(
        "name: small\ntasks:\n"
        "  - {id: sum, prompt: 'What is 17 × 23?', grader: number, expected: {value: 391}}\n"
        "  - {id: angles, prompt: 'hexagon angles?', grader: number, expected: {value: 720}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "cli-report"
    result = runner.invoke(
        app, ["bench", "--models", f"{GOOD},{BAD}", "--suite", str(suite), "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    assert f"{GOOD}: quality 1.00, 100% passed" in result.stdout
    assert f"{BAD}: quality 0.00" in result.stdout
    shown = runner.invoke(app, ["bench", "report", str(out)], env=env)
    assert shown.exit_code == 0 and "# Bench report" in shown.stdout
    against = runner.invoke(app, ["bench", "report", str(out), "--against", str(out)], env=env)
    assert against.exit_code == 0 and "+0.00" in against.stdout
    missing = runner.invoke(app, ["bench", "report", str(tmp_path)], env=env)
    assert missing.exit_code == 2 and "not a bench report folder" in unboxed(missing.stderr)
