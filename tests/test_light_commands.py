"""Commands that need no model and no vectors load none (issue 19, item 1): `--help`, `kb list`,
`kb stats` (a local base's SQLite files, read without Chroma) and `models` never import PyTorch,
Chroma, transformers or sentence-transformers. Each runs in a new process, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.session import Session
from assistant.settings import load_settings

from corpus import write_files
from fakes_ollama import FakeOllamaServer

HEAVY = ("torch", "chromadb", "transformers", "sentence_transformers")

#: Runs the installed command's entry point in this process, then lists the heavy modules loaded.
SCRIPT = """
import json, sys
from tui.cli import main
heavy = json.loads(sys.argv[2])
sys.argv = ["assistant", *json.loads(sys.argv[1])]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
loaded = sorted(m for m in heavy if m in sys.modules)
print("\\nLOADED " + json.dumps({"code": code, "loaded": loaded}))
"""


def loaded_by(args: list[str], env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("LOADED ")), None)
    assert line is not None, done.stdout + done.stderr
    result = json.loads(line.removeprefix("LOADED "))
    assert result["code"] == 0, done.stdout + done.stderr
    return result["loaded"]


@pytest.fixture(scope="module")
def ollama():
    with FakeOllamaServer() as server:
        server.add_model("deepseek-r1:7b")
        yield server


@pytest.fixture
def env(home: Path, tmp_path: Path, ollama: FakeOllamaServer) -> dict[str, str]:
    import os

    env = {**os.environ, "ASSISTANT_HOME": str(home), "OLLAMA_HOST": ollama.url()}
    env.pop("ASSISTANT_CHROMA_URL", None)
    settings = load_settings(environ={**env, "ASSISTANT_EMBEDDER": "ollama:fake-embed"})
    session = Session(settings)
    try:
        session.ingest(write_files(tmp_path / "notes", {"a.md": "# A\n\nducks fly south\n"}), "notes")
    finally:
        session.close()
    return env


COMMANDS = [
    ["--help"],
    ["kb", "list"],
    ["kb", "stats", "--kb", "notes"],
    ["kb", "stats", "--kb", "notes", "--json"],
    ["models"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_command_without_models_or_vectors_loads_none(args: list[str], env: dict[str, str]) -> None:
    assert loaded_by(args, env) == []


def test_the_check_sees_a_heavy_import(env: dict[str, str]) -> None:
    # `search` of a base built with an Ollama embedder opens its Chroma collections.
    assert "chromadb" in loaded_by(["search", "ducks", "--kb", "notes"], env)


#: Notes, when Chroma's collections start opening on their thread, whether numpy is imported.
RACE_SCRIPT = """
import json, sys, threading
seen = []
start = threading.Thread.start
def noting(self):
    if self.name == "chroma-open":
        seen.append("numpy" in sys.modules)
    start(self)
threading.Thread.start = noting
from tui.cli import main
sys.argv = ["assistant", "search", "ducks", "--kb", "notes"]
try:
    main()
except SystemExit:
    pass
print("\\nSEEN " + json.dumps(seen))
"""


def test_numpy_is_imported_before_chroma_opens_on_its_thread(env: dict[str, str]) -> None:
    # Imported by two threads at once (the query's and Chroma's), numpy is seen half-initialized
    # and one of them fails with ImportError: a cold search failed so, now and then.
    done = subprocess.run(
        [sys.executable, "-c", RACE_SCRIPT], capture_output=True, text=True, timeout=300, env=env
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("SEEN ")), None)
    assert line is not None and done.returncode == 0, done.stdout + done.stderr
    assert json.loads(line.removeprefix("SEEN ")) == [True], "Chroma opens on a thread, after numpy"
