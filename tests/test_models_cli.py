"""`assistant models` and `assistant models pull` against the fake Ollama: what `Session` lists
(installed models and the R1 catalogue, marked once) is what the command prints, as tables or
JSON; the chat app's model picker reads the same listing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner, Result

from assistant.chat.catalog import R1_CATALOG
from assistant.cli import app
from assistant.session import Session
from assistant.settings import load_settings

from fakes_loopback import closed_port_url
from fakes_ollama import FakeOllamaServer

CUSTOM = "qwen3:8b"


@pytest.fixture
def server() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.add_model("deepseek-r1:7b")
        server.add_model(CUSTOM, thinking=False, parameter_size="8.2B", context_length=40960)
        yield server


def run(*args: str, host: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"OLLAMA_HOST": host})


def test_models_json_lists_installed_models_and_the_whole_catalogue(server: FakeOllamaServer) -> None:
    result = run("models", "--json", host=server.url())
    assert result.exit_code == 0, result.output
    listing = json.loads(result.stdout)
    assert listing["error"] is None and listing["memory_gib"] >= 0
    installed = {m["name"]: m for m in listing["installed"]}
    assert set(installed) == {"deepseek-r1:7b", CUSTOM}
    assert installed[CUSTOM]["thinking"] is False and installed[CUSTOM]["context_length"] == 40960
    assert installed["deepseek-r1:7b"]["thinking"] is True and installed["deepseek-r1:7b"]["size_bytes"] > 0
    assert [c["tag"] for c in listing["catalog"]] == [c.tag for c in R1_CATALOG]
    assert {c["tag"] for c in listing["catalog"] if c["installed"]} == {"deepseek-r1:7b"}
    seven = next(c for c in listing["catalog"] if c["tag"] == "deepseek-r1:7b")
    assert set(seven) == {"tag", "base", "download_gb", "memory_gib", "fits", "installed"}
    assert seven["base"] == "DeepSeek-R1-Distill-Qwen-7B" and seven["memory_gib"] > seven["download_gb"]


def test_models_prints_the_server_its_models_and_the_catalogue(server: FakeOllamaServer) -> None:
    result = run("models", host=server.url())
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert f"Installed in ollama at {server.url()}" in text
    assert CUSTOM in text and "8.2B" in text and "40960" in text
    assert "DeepSeek-R1 catalogue" in text and "deepseek-r1:671b" in text


def test_models_with_the_server_down_says_so_and_still_shows_the_catalogue() -> None:
    down = closed_port_url()
    result = run("models", "--json", host=down)
    # Exit 1: an empty "installed" list must not read as "nothing installed" to a script.
    assert result.exit_code == 1, result.output
    listing = json.loads(result.stdout)
    assert listing["installed"] == [] and listing["error"]
    assert len(listing["catalog"]) == len(R1_CATALOG)
    shown = run("models", host=down)
    assert shown.exit_code == 1
    assert f"error: {listing['error']}" in " ".join(shown.stderr.split())
    assert "deepseek-r1:1.5b" in shown.stdout
    assert "Installed in" not in shown.stdout  # no empty table that reads as "none installed"


def test_model_names_from_the_server_are_printed_as_text(server: FakeOllamaServer) -> None:
    server.add_model("[bold]evil[/]:latest", parameter_size="1B")
    result = run("models", host=server.url())
    assert result.exit_code == 0, result.output
    assert "[bold]evil[/]" in result.stdout


def test_pull_reports_progress_and_installs_the_model(server: FakeOllamaServer) -> None:
    result = run("models", "pull", "deepseek-r1:1.5b", host=server.url())
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "pulling manifest" and lines[-1] == "pulled deepseek-r1:1.5b"
    assert "success" in lines
    assert "deepseek-r1:1.5b" in server.models


def test_pull_of_an_unknown_model_ends_with_one_error_line() -> None:
    with FakeOllamaServer() as server:
        result = run("models", "pull", "no-such-model:1b", host=server.url())
    assert result.exit_code == 1
    *progress, last = result.stderr.strip().splitlines()
    assert progress == ["pulling manifest"]
    assert last.startswith("error: Ollama at http://127.0.0.1:") and "does not exist" in last


def test_the_model_picker_lists_each_model_once(server: FakeOllamaServer, home) -> None:
    session = Session(load_settings({"home": home}, {"OLLAMA_HOST": server.url()}))
    rows, problem = session.models()
    listing = session.model_listing()
    assert problem is None
    names = [r.name for r in rows]
    assert len(names) == len(set(names))
    assert [r.name for r in rows if r.installed] == [m.name for m in listing.installed]
    assert [r.name for r in rows if not r.installed] == [c.tag for c in listing.catalog if not c.installed]
    seven = next(r for r in rows if r.name == "deepseek-r1:7b")
    assert seven.installed and seven.fits is not None and seven.memory_gib
    assert next(r for r in rows if r.name == CUSTOM).fits is None  # not in the catalogue
