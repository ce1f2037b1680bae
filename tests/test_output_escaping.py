"""Text is data, never markup: titles, paths, headings, passages, answers, notices and errors full
of rich/Textual markup and terminal escape codes are shown literally (markup) or not at all
(control sequences), and never crash `search`, `ask`, `ingest` or the chat app."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from assistant.cli import app
from assistant.cli.views.ingest import PlainView, ProgressView, print_summary
from assistant.cli.views.terminal_text import StreamCleaner, plain, styled
from assistant.ingest_events import FileProcessed, IngestFinished, IngestStarted
from ingest import FileFailure, SyncSummary

from cli_text import printed_sources
from corpus import write_files
from fakes_ollama import FakeOllamaServer, Reply
from fakes_searxng import FakeSearxng, Hit
from printed_table import compact

R1 = "deepseek-r1:7b"

MARKUP = [
    "[/]", "[bold]", "[/bold]", "[link=https://evil.example]", "[red on white]", "[", "]", "\\",
    "[@click=quit]",
]  # fmt: skip
ESCAPES = [
    "\x1b[31m",
    "\x1b[0m",
    "\x1b]0;pwned\x07",
    "\x1b[2J",
    "\x1b[?1049h",
    "\x07",
    "\x1bc",
    "\x9b31m",
    "\x08",
]


def hostile(seed: int, words: str = "duck") -> str:
    """Text mixing markup tags and escape codes around `words` (a different mix per seed)."""
    tags = list(itertools.islice(itertools.cycle(MARKUP), seed, seed + 5))
    codes = list(itertools.islice(itertools.cycle(ESCAPES), seed, seed + 3))
    return (
        f"{tags[0]}{words}{codes[0]} {tags[1]}{tags[2]}{words}{codes[1]}{tags[3]} {codes[2]}{tags[4]} end\\"
    )


def literal(text: str) -> str:
    """What the user should see: the text with control sequences removed, markup kept as typed."""
    return plain(text)


def assert_clean(output: str) -> None:
    for code in ("\x1b", "\x07", "\x9b", "\x08"):
        assert code not in output, repr(output)
    assert "Traceback" not in output and "MarkupError" not in output


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    # A wide terminal, so table cells and long lines are not wrapped inside the strings checked.
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400", **(env or {})})


@pytest.mark.parametrize("seed", range(len(MARKUP)))
def test_text_helpers_keep_markup_literal_and_drop_escape_codes(seed: int) -> None:
    text = hostile(seed, "Ducks [K1]")
    out = Console(file=io.StringIO(), width=500, color_system=None)
    out.print(styled((text, "bold"), " after"), highlight=False)
    printed = out.file.getvalue()
    assert printed.rstrip("\n") == literal(text) + " after"
    assert_clean(printed)


@pytest.mark.parametrize("step", [1, 2, 3, 7])
def test_escape_codes_split_across_streamed_pieces_are_dropped_whole(step: int) -> None:
    text = "".join(hostile(seed, "word") for seed in range(len(MARKUP)))
    cleaner = StreamCleaner()
    shown = "".join(cleaner.feed(text[i : i + step]) for i in range(0, len(text), step)) + cleaner.finish()
    assert shown == literal(text)


def test_ingest_views_print_paths_and_errors_literally() -> None:
    bad = hostile(1, "notes")
    for view_class, terminal in ((PlainView, False), (ProgressView, True)):
        out = Console(file=io.StringIO(), width=400, color_system=None, force_terminal=terminal)
        view = view_class(out)
        view(IngestStarted(f"/in/{bad}", 2))
        view(FileProcessed(f"/in/{bad}.md", "failed", error=f"cannot parse {bad}"))
        view(FileProcessed(f"/in/{bad}.txt", "added", 3, warnings=(f"odd bytes {bad}",)))
        view(IngestFinished(SyncSummary()))
        summary = SyncSummary(files_failed=[FileFailure(f"/in/{bad}.md", bad)])
        print_summary(out, summary, "kb[/]")
        printed = out.file.getvalue()
        assert f"/in/{literal(bad)}.md: cannot parse {literal(bad)}" in printed
        assert "kb[/]:" in printed
        if view_class is PlainView:
            assert_clean(printed)


@pytest.fixture
def hostile_notes(tmp_path: Path) -> Path:
    # File names may hold brackets (not "/"); headings and text anything.
    return write_files(
        tmp_path / "notes",
        {
            "[bold]ducks[red.md": (
                f"# {hostile(0, 'Mallard ducks')}\n\n{hostile(2, 'Mallard ducks migrate')} south.\n"
            ),
            "owls].txt": f"{hostile(4, 'Owls hunt at night')} and sleep by day.\n",
        },
    )


def test_ingest_and_search_print_hostile_names_headings_and_passages(hostile_notes: Path) -> None:
    ingested = run("--embedder", "minilm", "ingest", str(hostile_notes))
    assert ingested.exit_code == 0, ingested.output
    assert "[bold]ducks[red.md" in ingested.stderr
    assert_clean(ingested.stdout + ingested.stderr)

    found = run("search", "Mallard ducks migrate")
    assert found.exit_code == 0, found.output
    # Lines wrap by the terminal's width and the paths' length: compare each source's block.
    blocks = [compact(block) for block in printed_sources(found.stdout).values()]
    for shown in ("[bold]ducks[red.md", "[/]Mallard ducks", "[/bold]Mallard ducks migrate"):
        assert any(compact(shown) in block for block in blocks), (shown, found.stdout)
    assert_clean(found.stdout + found.stderr)


@pytest.fixture
def ollama() -> FakeOllamaServer:
    with FakeOllamaServer() as server:
        server.add_model(R1)
        yield server


def test_ask_prints_a_hostile_answer_sources_and_notices_after_streaming(
    hostile_notes: Path, ollama: FakeOllamaServer, searxng: FakeSearxng
) -> None:
    assert run("--embedder", "minilm", "ingest", str(hostile_notes)).exit_code == 0
    answer = f"Ducks migrate [K1]. {hostile(3, 'Really')} [bold]not bold[/bold] \x1b[2Jcleared? [/]"
    reasoning = f"Think {hostile(5, 'carefully')}"
    ollama.script(R1, Reply(reasoning=reasoning, answer=answer))
    # A web result on a closed loopback port with a hostile URL and title: its refusal notice
    # and its snippet-only source carry the markup too.
    searxng.hits = [
        Hit("http://127.0.0.1:9/[/]page?[bold]=1", hostile(6, "Web title"), hostile(7, "Ducks fly"))
    ]
    env = {
        "OLLAMA_HOST": ollama.url(),
        "ASSISTANT_SEARCH_ENGINE": "searxng",
        "ASSISTANT_SEARXNG_URL": searxng.url(),
        "ASSISTANT_WEB_BUDGET": "3",
    }
    result = run("ask", "Mallard ducks migrate?", "--web", "--model", R1, env=env)
    assert result.exit_code == 0, result.output
    assert_clean(result.stdout + result.stderr)
    out = " ".join(result.stdout.split())
    assert " ".join(literal(answer).split()) in out
    assert "[bold]not bold[/bold]" in out
    assert " ".join(literal(hostile(6, "Web title")).split()) in out
    assert "http://127.0.0.1:9/[/]page?[bold]=1" in " ".join(result.stderr.split())


@pytest.mark.parametrize("seed", [0, 3])
def test_errors_with_markup_are_one_clean_line(seed: int, tmp_path: Path) -> None:
    queries = tmp_path / hostile(seed, "gone").replace("/", "_")
    queries.write_bytes(b"caf\xe9\n")  # not UTF-8: the file cannot be read
    result = run("search", "--web", "--queries", str(queries))
    assert result.exit_code == 1
    assert_clean(result.stderr)
    assert result.stderr.startswith("error: ") and literal(str(queries)) in " ".join(result.stderr.split())


@pytest.mark.parametrize("seed", [0, 3])
def test_usage_errors_with_markup_are_clean(seed: int, tmp_path: Path) -> None:
    missing = tmp_path / hostile(seed, "gone").replace("/", "_")
    result = run("ingest", str(missing))
    assert result.exit_code == 2
    assert_clean(result.stderr)
    assert "[bold]" in result.stderr or "[/]" in result.stderr or "[link" in result.stderr  # as typed
