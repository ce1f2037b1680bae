"""Back-ends, search engines and graders are registries: one table each, read by every caller."""

from __future__ import annotations

import dataclasses

import pytest
from typer.testing import CliRunner

from assistant.bench.graders import GRADERS
from assistant.bench.suite import load_suite
from assistant.chat.backends import BACKENDS, BackendError, ChatBackend, make_backend
from assistant.chat.backends.openai import OpenAIBackend
from assistant.chat.catalog import R1_CATALOG, is_r1
from assistant.cli import app
from assistant.settings import load_settings
from assistant.web.engines import ENGINES, SearchEngine, WebSearchError, make_engine

from fakes_openai import FakeOpenAI


def test_every_backend_in_the_registry_is_made_from_settings() -> None:
    settings = load_settings(environ={"ASSISTANT_OPENAI_BASE_URL": "http://127.0.0.1:9"})
    for name, (module, class_name) in BACKENDS.items():
        made = make_backend(dataclasses.replace(settings, backend=name))
        assert isinstance(made, ChatBackend) and made.name == name
        assert type(made).__name__ == class_name and type(made).__module__.endswith(f".{module}")


def test_unknown_or_unconfigured_backend_names_the_setting() -> None:
    settings = load_settings(environ={})
    with pytest.raises(BackendError, match="unknown back-end 'olama' .*ollama or openai"):
        make_backend(dataclasses.replace(settings, backend="olama"))
    with pytest.raises(BackendError, match="ASSISTANT_OPENAI_BASE_URL"):
        make_backend(dataclasses.replace(settings, backend="openai"))


def test_every_engine_in_the_registry_is_made_by_name() -> None:
    for name, engine in ENGINES.items():
        assert issubclass(engine, SearchEngine)
        made = make_engine(name, searxng_url="http://127.0.0.1:9")
        assert isinstance(made, engine) and made.name == name
    assert make_engine("ddg").name == "duckduckgo"
    with pytest.raises(WebSearchError, match="duckduckgo or searxng"):
        make_engine("bing")


def test_suites_only_use_registered_graders() -> None:
    for suite in ("builtin", "docs-kb"):
        assert {task.grader for task in load_suite(suite).tasks} <= set(GRADERS)


@pytest.mark.parametrize(
    ("model", "r1"),
    [
        ("deepseek-r1:7b", True),
        ("DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf", True),
        ("hf.co/unsloth/r1-1776-GGUF", True),
        ("deepseek-r1", True),
        ("qwen3:8b", False),
        ("deepseek-v3", False),
        ("r10-model", False),
        ("gr1nder", False),
    ],
)
def test_one_r1_test(model: str, r1: bool) -> None:
    assert is_r1(model) is r1


def test_catalogue_is_all_r1() -> None:
    assert all(is_r1(entry.tag) for entry in R1_CATALOG)


def test_openai_backend_uses_the_same_r1_test() -> None:
    server = FakeOpenAI(models=("DeepSeek-R1-Distill-Qwen-7B", "qwen3-8b", "deepseek-reasoner")).start()
    try:
        backend = OpenAIBackend(server.url())
        assert [backend.show(m).thinking for m in server.models] == [True, None, True]
    finally:
        server.stop()


def test_unknown_names_fail_the_command_with_the_registrys_names() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["ask", "hi"], env={"ASSISTANT_BACKEND": "olama"})
    assert result.exit_code == 1 and "use ollama or openai" in result.stderr
    result = runner.invoke(app, ["search", "ducks", "--web"], env={"ASSISTANT_SEARCH_ENGINE": "bingo"})
    assert result.exit_code == 1 and "'bingo' is not duckduckgo or searxng" in result.stderr
