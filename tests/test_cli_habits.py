"""What users of command-line tools take for granted: `--version`, `-h` everywhere, exit status 2
for every kind of bad usage, help that shows a flag as a flag and its text as typed, counts in
good English, and a missing knowledge base named with the ones that exist, for every command."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from assistant.cli import build_app
from tui.cli import chat
from vectorstore import KnowledgeBase
from vectorstore.plurals import counted, plural

from cli_text import unboxed

APP = build_app([chat])


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(APP, list(args), env=env)


def command_paths() -> Iterator[tuple[str, ...]]:
    """Every command and subcommand of `assistant`, as the words that invoke it."""

    def walk(command, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, (*path, name))

    yield from walk(typer.main.get_command(APP), ())


PATHS = list(command_paths())


def test_the_command_tree_is_what_the_readme_lists() -> None:
    names = {" ".join(p) for p in PATHS}
    assert {"", "ingest", "search", "ask", "chat", "kb list", "kb stats", "kb remove", "models pull"} <= names
    assert {"bench report", "kb unlock"} <= names


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"assistant (r1-assistant) {version('r1-assistant')}"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "assistant")
def test_dash_h_is_help_everywhere_and_flags_take_no_value(path: tuple[str, ...]) -> None:
    short, long = run(*path, "-h"), run(*path, "--help")
    assert short.exit_code == long.exit_code == 0, short.output
    assert short.stdout == long.stdout
    assert "Usage: assistant" in short.stdout
    # Typer 0.29 printed "--json <bool>", as if the flag took a value.
    assert "<bool>" not in short.stdout


def test_help_shows_flags_bare_and_bracketed_text_as_typed() -> None:
    search = unboxed(run("search", "-h").stdout)
    assert "--json Print JSON" in search and "--web Also search the web" in search
    assert "-k <int range>" in search  # an option that takes a value still says what kind
    assert "Knowledge base name [default: default]" in search
    root = unboxed(run("-h").stdout)
    assert "Home folder for all state [env: ASSISTANT_HOME]" in root
    assert "-h" in root and "--version" in root


BAD_USAGE = [
    ("no-such-command",),
    ("--no-such-option",),
    ("search",),  # neither a query nor --queries
    ("search", "   "),
    ("search", "a", "b"),
    ("search", "-k", "0", "ducks"),
    ("search", "-k", "many", "ducks"),
    ("search", "--no-such-option", "ducks"),
    ("ask",),
    ("ask", ""),
    ("ask", "why?", "--no-such-option"),
    ("ingest",),
    ("ingest", "/no/such/folder/anywhere"),
    ("ingest", ".", "extra"),
    ("kb",),
    ("kb", "no-such-subcommand"),
    ("kb", "stats", "extra"),
    ("kb", "remove"),
    ("kb", "unlock"),
    ("kb", "list", "--no-such-option"),
    ("models", "--no-such-option"),
    ("models", "pull"),
    ("models", "pull", "a", "b"),
    ("bench", "--repeat", "0"),
    ("bench", "--suite", "no-such-suite"),
    ("bench", "report"),
    ("bench", "report", "/no/such/report"),
    ("chat", "extra"),
    ("chat", "--no-such-option"),
]


@pytest.mark.parametrize("args", BAD_USAGE, ids=" ".join)
def test_bad_usage_exits_2_with_where_to_find_help(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    text = unboxed(result.output)
    assert "-h" in text or "--help" in text  # "Try 'assistant … -h' for help", or the help itself


def test_counts_read_as_english() -> None:
    assert counted(1, "file") == "1 file"
    assert counted(0, "file") == "0 files"
    assert counted(2, "chunk") == "2 chunks"
    assert counted(1200, "chunk") == "1,200 chunks"
    assert counted(1, "entry") == "1 entry" and counted(3, "entry") == "3 entries"
    assert plural("web page") == "web pages" and plural("match") == "matches" and plural("day") == "days"
    assert counted(2, "person", "people") == "2 people"


@pytest.fixture
def two_bases(home: Path) -> list[str]:
    for name in ("notes", "papers"):
        KnowledgeBase.open(home, name, embedder="minilm").close()
    return ["notes", "papers"]


MISSING_BASE = [
    ("search", "ducks", "--kb", "notse"),
    ("ask", "why?", "--kb", "notse"),
    ("kb", "stats", "--kb", "notse"),
    ("kb", "remove", "notse", "--yes"),
    ("kb", "unlock", "notse", "--yes"),
    ("chat", "--kb", "notse"),
]


@pytest.mark.parametrize("args", MISSING_BASE, ids=" ".join)
def test_a_missing_base_is_named_with_the_existing_ones(args: tuple[str, ...], two_bases: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines  # one line, no traceback
    assert lines[0].startswith("error: no knowledge base named 'notse'")
    assert "(existing: notes, papers)" in lines[0]
    assert "did you mean 'notes'?" in lines[0]
    assert "assistant ingest PATH --kb notse" in lines[0]


def test_a_missing_default_base_says_there_are_none_yet() -> None:
    result = run("search", "ducks")
    assert result.exit_code == 1
    assert "(there are none yet)" in result.stderr and "--web" in result.stderr
