"""Plugins by installation: a small package, written and pip-installed (into a folder of its own,
never the project's environment) by this test, adds a chat back-end, a search engine, an embedder
and a bench grader through entry points, plus broken ones. What works is used like a built-in; a
broken plugin costs only itself, with a message naming its package."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "r1-assistant-demo-plugins"
SHOWN = f"{PACKAGE} 0.1"  # how messages name it

PYPROJECT = f"""
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{PACKAGE}"
version = "0.1"

[tool.setuptools]
packages = ["demo_plugins"]

[project.entry-points."r1_assistant.chat_backends"]
echo = "demo_plugins.backend:EchoBackend"
broken = "demo_plugins.broken:Backend"

[project.entry-points."r1_assistant.search_engines"]
echo = "demo_plugins.engine:EchoEngine"
crashing = "demo_plugins.engine:CrashingEngine"
broken = "demo_plugins.broken:Engine"
notanengine = "demo_plugins.engine:NOT_AN_ENGINE"
duckduckgo = "demo_plugins.broken:Engine"

[project.entry-points."r1_assistant.embedders"]
demohash = "demo_plugins.embedder:create"
broken = "demo_plugins.broken:create"

[project.entry-points."r1_assistant.graders"]
min_length = "demo_plugins.grader:min_length"
crash = "demo_plugins.grader:crash"
broken = "demo_plugins.broken:grade"
"""

MODULES = {
    "__init__.py": "",
    "broken.py": 'raise ImportError("the demo library is not installed")\n',
    "backend.py": """
        from assistant.chat.backends import ChatBackend, GenerationStats, ModelInfo, StreamPiece


        class EchoBackend(ChatBackend):
            name = "echo"
            url = "in-process"
            native_thinking = True

            @classmethod
            def from_settings(cls, settings):
                return cls()

            def list_models(self):
                return [ModelInfo("echo-r1", size_bytes=1)]

            def show(self, model):
                return ModelInfo(model, thinking=True)

            def chat(self, request):
                question = request.messages[-1]["content"]
                yield StreamPiece(thinking="The sources say ducks migrate.")
                yield StreamPiece(content=f"Echo: {len(question)} characters asked [K1].")
                yield StreamPiece(done=True, stats=GenerationStats(eval_tokens=6, eval_ns=10**8))
    """,
    "engine.py": """
        from assistant.web.engines import SearchEngine, SearchResult

        NOT_AN_ENGINE = 42


        class EchoEngine(SearchEngine):
            name = "echo"

            @classmethod
            def configured(cls, config):
                return cls()

            def search(self, query, max_results, timeout):
                return [SearchResult(f"About {query}", "https://example.invalid/", "a snippet")]


        class CrashingEngine(EchoEngine):
            name = "crashing"

            def search(self, query, max_results, timeout):
                raise KeyError("a bug in the plugin")
    """,
    "embedder.py": """
        import hashlib

        from vectorstore.embedders import Embedder


        class HashEmbedder(Embedder):
            languages = frozenset({"en"})  # an English-only base: no second (English) index

            def __init__(self, flavour):
                self.id = f"demohash:{flavour or 'v1'}"

            @property
            def dimension(self):
                return 32

            def embed_documents(self, texts):
                return [self.embed_query(t) for t in texts]

            def embed_query(self, text):
                vector = [0.0] * 32
                for word in text.lower().split():
                    vector[hashlib.sha256(word.encode()).digest()[0] % 32] += 1.0
                norm = sum(v * v for v in vector) ** 0.5 or 1.0
                return [v / norm for v in vector]


        def create(argument, options):
            return HashEmbedder(argument)
    """,
    "grader.py": """
        from assistant.bench.graders import Grade


        def min_length(answer, expected, sources):
            wanted = expected.get("min", 1)
            return Grade(len(answer) >= wanted, 1.0 if len(answer) >= wanted else 0.0, f"{len(answer)} chars")


        def crash(answer, expected, sources):
            raise ValueError("a bug in the grader")
    """,
}


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo package, built from its pyproject by pip into a folder of its own (--target)."""
    source = tmp_path_factory.mktemp("demo-plugin")
    (source / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (source / "demo_plugins").mkdir()
    for name, text in MODULES.items():
        (source / "demo_plugins" / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    site = tmp_path_factory.mktemp("site")
    # The build runs offline on this environment's setuptools where it has one.
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-cache-dir"]
    command += [*isolation, "--target", str(site), str(source)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return site


@pytest.fixture
def installed(plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The demo package importable and its entry points visible in this process, for one test."""
    monkeypatch.syspath_prepend(str(plugin_site))
    yield plugin_site
    for name in [m for m in sys.modules if m == "demo_plugins" or m.startswith("demo_plugins.")]:
        del sys.modules[name]


def test_the_project_environment_is_left_as_it_was(plugin_site: Path) -> None:
    names = {d.metadata["Name"] for d in importlib.metadata.distributions()}
    assert PACKAGE not in names
    assert (plugin_site / "demo_plugins").is_dir() and list(plugin_site.glob("*.dist-info"))
    importlib.invalidate_caches()
    assert importlib.util.find_spec("demo_plugins") is None


def test_a_plugin_engine_is_made_like_a_built_in(installed: Path) -> None:
    from assistant.web.engines import WebSearchError, engine_names, make_engine

    assert engine_names()[:2] == ["duckduckgo", "searxng"]
    assert {"echo", "crashing", "broken"} <= set(engine_names())
    assert engine_names().count("duckduckgo") == 1  # a plugin cannot replace a built-in
    echo = make_engine("echo")
    assert echo.name == "echo" and echo.search("ducks", 5, 1.0)[0].title == "About ducks"
    assert make_engine("duckduckgo").name == "duckduckgo"
    with pytest.raises(WebSearchError, match=re.escape(f"'crashing' from package {SHOWN} failed (KeyError")):
        make_engine("crashing").search("ducks", 5, 1.0)
    with pytest.raises(WebSearchError, match="use duckduckgo or searxng or .*echo"):
        make_engine("bing")


def test_a_broken_plugin_costs_only_itself(installed: Path) -> None:
    from assistant.chat.backends import BackendError, make_backend
    from assistant.settings import load_settings
    from assistant.web.engines import WebSearchError, make_engine
    from vectorstore.embedders import EmbedderError, make_embedder

    missing = f"'broken' from package {SHOWN} could not be loaded (ImportError: the demo library"
    with pytest.raises(WebSearchError, match=re.escape(f"search engine {missing}")):
        make_engine("broken")
    with pytest.raises(BackendError, match=re.escape(f"chat back-end {missing}")):
        make_backend(load_settings({}, {"ASSISTANT_BACKEND": "broken"}))
    with pytest.raises(EmbedderError, match=re.escape(f"embedder {missing}")):
        make_embedder("broken")
    not_one = f"'notanengine' from package {SHOWN} is not a search engine"
    with pytest.raises(WebSearchError, match=re.escape(not_one)):
        make_engine("notanengine")
    assert make_engine("echo").name == "echo"  # its neighbours still load


def test_a_plugin_embedder_builds_and_searches_a_base(installed: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ducks.md").write_text("# Ducks\n\nDucks migrate south in winter.\n", encoding="utf-8")
    (notes / "owls.md").write_text("# Owls\n\nOwls hunt at night.\n", encoding="utf-8")
    runner = CliRunner()
    ingested = runner.invoke(app, ["--embedder", "demohash:v2", "ingest", str(notes), "--json"])
    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.stdout)["files_added"] == 2
    stats = runner.invoke(app, ["kb", "stats", "--json"])
    assert json.loads(stats.stdout)["embedder"] == "demohash:v2"
    found = runner.invoke(app, ["search", "ducks migrate", "--json", "-k", "1"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["hits"][0]["title"] == "Ducks"


def test_plugin_graders_grade_and_a_failing_one_fails_its_result(installed: Path, tmp_path: Path) -> None:
    from assistant.bench.graders import GraderError, find_grader, grader_names
    from assistant.bench.runner import grade
    from assistant.bench.suite import Task, load_suite
    from assistant.chat.events import Final

    assert {"min_length", "crash", "broken"} <= set(grader_names())
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: plugins\ntasks:\n"
        "  - {id: long, prompt: Say a lot., grader: min_length, expected: {min: 5}}\n"
        "  - {id: crash, prompt: Anything., grader: crash}\n"
        "  - {id: broken, prompt: Anything., grader: broken}\n",
        encoding="utf-8",
    )
    tasks = {t.id: t for t in load_suite(str(suite)).tasks}
    answer = Final("echo-r1", web=False, outcome="answered", answer="plenty of words")
    assert grade(tasks["long"], answer).passed
    crashed = grade(tasks["crash"], answer)
    assert not crashed.passed and f"'crash' from package {SHOWN} failed" in crashed.detail
    broken = grade(tasks["broken"], answer)
    assert not broken.passed and f"grader 'broken' from package {SHOWN} could not be loaded" in broken.detail
    with pytest.raises(GraderError, match="unknown grader 'nope'"):
        find_grader("nope")
    assert isinstance(tasks["long"], Task)


def test_installed_plugins_serve_the_real_command(plugin_site: Path, tmp_path: Path) -> None:
    """A separate process that finds the package only as an installed one (PYTHONPATH): ingest
    with its embedder, answer with its back-end, with its web engine broken at search time."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ducks.md").write_text("# Ducks\n\nDucks migrate south in winter.\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_HOME=str(tmp_path / "home"),
        PYTHONPATH=os.pathsep.join([str(plugin_site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        ASSISTANT_EMBEDDER="demohash",
        ASSISTANT_BACKEND="echo",
        ASSISTANT_SEARCH_ENGINE="crashing",
    )
    command = [sys.executable, "-c", "from tui.cli import main; main()"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=300)

    ingested = run("ingest", str(notes), "--json")
    assert ingested.returncode == 0, ingested.stderr
    asked = run("ask", "Where do ducks go?", "--web", "--model", "echo-r1", "--json")
    assert asked.returncode == 0, asked.stderr
    final = json.loads(asked.stdout)
    assert final["answer"].startswith("Echo: ") and final["answer"].endswith("characters asked [K1].")
    assert final["reasoning"] == "The sources say ducks migrate."
    assert any(f"'crashing' from package {SHOWN} failed" in n for n in final["notices"]), final
    assert final["sources"][0]["title"] == "Ducks"
