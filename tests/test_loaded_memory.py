"""`/api/ps`, which the bench reads for each model's memory: through the back-end, the session
and a bench run, against the fake Ollama."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.bench.runner import run_bench
from assistant.bench.suite import Task, load_suite
from assistant.chat.backends import BackendUnavailable, ChatRequest, GenerationOptions
from assistant.chat.backends.ollama import OllamaBackend
from assistant.session import Session
from assistant.settings import load_settings

from fakes_loopback import closed_port_url
from fakes_ollama import FakeOllamaServer, Reply

R1, OTHER = "deepseek-r1:7b", "deepseek-r1:1.5b"


@pytest.fixture
def server() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.add_model(R1)
        server.add_model(OTHER)
        yield server


def chat(backend: OllamaBackend, model: str, **options) -> None:
    request = ChatRequest(model, [{"role": "user", "content": "hi"}], options=GenerationOptions(**options))
    assert list(backend.chat(request))[-1].done


def test_loaded_memory_follows_what_ps_reports(server: FakeOllamaServer) -> None:
    backend = OllamaBackend(server.url())
    assert backend.loaded_memory(R1) is None  # nothing loaded yet
    chat(backend, OTHER)
    assert backend.loaded_memory(R1) is None  # another model's memory is not ours
    chat(backend, R1, num_ctx=4096)
    size = server.models[R1].total_size
    assert size > 1e9 and backend.loaded_memory(R1) == size
    assert backend.loaded_memory(OTHER) == server.models[OTHER].total_size
    assert any(r.path == "/api/ps" and r.method == "GET" for r in server.requests)
    chat(backend, R1, keep_alive="0")  # answered, then unloaded at once
    assert backend.loaded_memory(R1) is None


def test_loaded_memory_when_the_server_is_down() -> None:
    url = closed_port_url()
    with pytest.raises(BackendUnavailable, match="ollama serve"):
        OllamaBackend(url).loaded_memory(R1)
    session = Session(load_settings(environ={"OLLAMA_HOST": url}))
    assert session.loaded_memory(R1) is None  # the bench records "unknown", it does not fail


def test_bench_records_each_models_memory(server: FakeOllamaServer, home: Path, tmp_path: Path) -> None:
    server.script(R1, Reply(reasoning="17*23", answer="\\boxed{391}"))
    server.script(OTHER, Reply(reasoning="", answer="\\boxed{42}"))
    suite = load_suite("builtin")
    task = Task(id="multiply", prompt="17 × 23 = ?", grader="number", expected={"value": 391})
    session = Session(load_settings(environ={"ASSISTANT_HOME": str(home), "OLLAMA_HOST": server.url()}))
    try:
        records = run_bench(
            session, [R1, OTHER], dataclasses.replace(suite, tasks=(task,)), tmp_path, web=False
        )
    finally:
        session.close()
    memory = {r.model: r.memory_bytes for r in records}
    assert memory == {R1: server.models[R1].total_size, OTHER: server.models[OTHER].total_size}
    assert [r.passed for r in records] == [True, False]
