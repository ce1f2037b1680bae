"""Progress that moves: the embedding bar advances as chunks are embedded (within a batch, not
once per batch), its ETA never goes back to unknown, Ctrl+C during an ingest prints one line
saying what is saved (exit status 130) and the next ingest carries on, and `ask` says what it is
doing before anything slow has happened. Checked on the installed command, on a real
pseudo-terminal and as a plain subprocess, with a slow embedder (the fake Ollama's)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from rich.progress import Progress

from assistant.cli.views.ingest import ProgressView, SteadyTimeRemaining
from assistant.ingest_events import EmbeddingProgress, IngestStarted, Searchable
from ingest import ChunksEmbedded, EmbeddingStarted, sync
from vectorstore.embedders.e5_file import E5File, packaged_model_path
from vectorstore.embedders.e5_tokenizer import E5Tokenizer
from vectorstore.embedders.e5_torch import E5Runner

from corpus import english, write_files
from fakes_ollama import FakeOllamaServer, Reply
from fakes_searxng import FakeSearxng, Hit
from terminal import Terminal

TOPICS = ("ducks", "owls", "harbors", "lanterns", "meadows", "violins", "glaciers", "kites")


def many_chunks(root: Path, files: int = 24, sentences: int = 90) -> Path:
    """A folder of `files` English notes, about ten chunks each."""
    return write_files(
        root,
        {
            f"{TOPICS[i % len(TOPICS)]}-{i}.md": english(f"{TOPICS[i % len(TOPICS)]} {i}", sentences)
            for i in range(files)
        },
    )


# --- the embedder reports within a call ------------------------------------------------------------
def test_e5_reports_each_forward_pass_and_its_vectors_do_not_change() -> None:
    file = E5File(packaged_model_path())
    tokenizer = E5Tokenizer(file.vocabulary)
    texts = [f"passage: {english(topic, 3)}" for topic in TOPICS] * 3
    ids = tokenizer.content_ids(texts)
    runner = E5Runner(file, precision="fp32", max_batch_tokens=256)  # several passes per call
    steps: list[int] = []
    stepped = runner.embed(ids, on_pass=steps.append)
    assert len(steps) > 3 and sum(steps) == len(texts)
    assert np.allclose(stepped, runner.embed(ids), atol=1e-6)


def test_the_embedding_events_come_within_a_batch(tmp_path: Path, open_kb, minilm, monkeypatch) -> None:
    """An embedder that reports every 5 texts moves the bar 5 chunks at a time, even though the
    sync hands it 128 at once; the steps add up to every chunk embedded."""
    real = minilm.embed_documents

    def in_steps(texts, on_step):
        vectors = []
        for start in range(0, len(texts), 5):
            vectors += real(texts[start : start + 5])
            on_step(len(texts[start : start + 5]))
        return vectors

    monkeypatch.setattr(minilm, "embed_documents_in_steps", in_steps)
    events = []
    summary = sync(
        open_kb(), many_chunks(tmp_path / "notes", files=6), on_event=events.append, batch_size=128
    )
    [started] = [e for e in events if isinstance(e, EmbeddingStarted)]
    steps = [e.count for e in events if isinstance(e, ChunksEmbedded)]
    assert started.total == summary.chunks_embedded == sum(steps) > 20
    assert max(steps) <= 5 and len(steps) >= summary.chunks_embedded // 5


# --- the ETA -----------------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_eta_stays_known_through_a_long_silence() -> None:
    """Rich's own column forgets its speed after 30 s without an update and shows -:--:--; ours
    keeps the average since the bar first moved, and counts down while the bar waits (it never
    grows just because the next pass has not come yet)."""
    clock = Clock()
    view = ProgressView(console=None)  # type: ignore[arg-type]
    view.progress = Progress(SteadyTimeRemaining(), get_time=clock, disable=True)
    view(IngestStarted("/notes", 0))
    view(Searchable(600))
    bar = view.progress.tasks[view.embed_task]
    column = SteadyTimeRemaining()
    assert column.render(bar).plain == "estimating"
    clock.now += 10
    view(EmbeddingProgress(100))  # 100 chunks in the first 10 s
    first = column.render(bar).plain
    assert first == "0:00:50"
    shown = []
    for _ in range(6):  # a minute with no update: the estimate stays a time, counting down
        clock.now += 10
        shown.append(column.render(bar).plain)
    assert shown == ["0:00:40", "0:00:30", "0:00:20", "0:00:10", "0:00:00", "0:00:00"]
    view(EmbeddingProgress(100))  # 200 in 70 s, 100 since the first update 60 s ago
    assert column.render(bar).plain == "0:04:00"


# --- the installed command -----------------------------------------------------------------------
@pytest.fixture
def slow_ollama() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.embed_delay = 0.03  # a 32-text request takes about a second
        yield server


def command() -> str:
    return str(Path(sys.executable).with_name("assistant"))


def cli_env(home: Path, ollama: FakeOllamaServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    return {
        **env,
        "TERM": "xterm-256color",
        "LC_ALL": "C.UTF-8",
        "ASSISTANT_HOME": str(home),
        "OLLAMA_HOST": ollama.url(),
        "ASSISTANT_EMBEDDER": "ollama:fake-embed",
        "ASSISTANT_ENGLISH_INDEX": "0",
        **extra,
    }


def embedding_line(screen: str) -> str | None:
    lines = [line for line in screen.splitlines() if "Embedding" in line]
    return lines[-1] if lines else None


def test_ctrl_c_on_a_terminal_prints_one_line_and_the_next_ingest_carries_on(
    tmp_path: Path, slow_ollama: FakeOllamaServer
) -> None:
    folder = many_chunks(tmp_path / "notes")
    home = tmp_path / "home"
    env = cli_env(home, slow_ollama)
    term = Terminal([command(), "ingest", str(folder)], env=env, cols=120, rows=30)
    try:
        term.wait_for(lambda s: (line := embedding_line(s)) is not None and " 0/" not in line, timeout=120)
        seen = []
        for _ in range(8):  # the bar moves, and once the ETA is a time it stays one
            term.pump(0.4)
            seen.append(embedding_line(term.text))
        counts = [int(line.split("/")[0].split()[-1]) for line in seen if line]
        assert len(set(counts)) >= 3, seen
        assert all("-:--:--" not in line for line in seen if line), seen
        term.press("ctrl+c")
        status = term.wait_exit(60)
        screen = term.text
    finally:
        term.close()
    assert status == 130, screen
    assert "Traceback" not in screen
    interrupted = [line for line in screen.splitlines() if line.startswith("interrupted")]
    assert len(interrupted) == 1, screen
    assert "answers searches by words now" in interrupted[0] and "carries on" in screen

    slow_ollama.embed_delay = 0
    again = subprocess.run(
        [command(), "ingest", str(folder), "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["files_unchanged"] == summary["files_seen"] and summary["files_added"] == 0
    assert summary["chunks_embedded"] > 0  # what the interrupted run left


def read_lines(stream) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_sigint_to_a_plain_ingest_process_ends_it_with_one_line_and_status_130(
    tmp_path: Path, slow_ollama: FakeOllamaServer
) -> None:
    folder = many_chunks(tmp_path / "notes")
    env = cli_env(tmp_path / "home", slow_ollama)
    process = subprocess.Popen(
        [command(), "ingest", str(folder)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        lines, got = read_lines(process.stderr), []
        deadline = time.monotonic() + 120
        while not any("searchable (by words) now; embedding" in line for line in got):
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "".join(got)
            got.append(line)
        time.sleep(1.5)  # a batch or two embedded
        os.kill(process.pid, signal.SIGINT)
        status = process.wait(timeout=60)
        while (line := lines.get(timeout=10)) is not None:
            got.append(line)
    finally:
        if process.poll() is None:
            process.kill()
    stderr = "".join(got)
    assert status == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert stderr.splitlines()[-1].startswith("interrupted: 'default' keeps what was read (24 documents")


def test_ask_says_what_it_is_doing_before_the_search_answers(tmp_path: Path) -> None:
    """The status line shows while the search engine still holds the request: nothing has been
    found, embedded or asked yet, and the terminal is not blank."""
    searxng = FakeSearxng().start()
    searxng.hits = [Hit("http://127.0.0.1:9/ducks", "Ducks", "Ducks fly south.")]
    searxng.hold = threading.Event()
    try:
        with FakeOllamaServer() as ollama:
            ollama.add_model("deepseek-r1:7b")
            ollama.script("deepseek-r1:7b", Reply(reasoning="Hmm.", answer="They fly south [W1]."))
            env = cli_env(
                tmp_path / "home",
                ollama,
                ASSISTANT_SEARCH_ENGINE="searxng",
                ASSISTANT_SEARXNG_URL=searxng.url(),
                ASSISTANT_WEB_BUDGET="30",
            )
            term = Terminal([command(), "ask", "Where do ducks fly?", "--web"], env=env, cols=100, rows=20)
            try:
                term.wait_for("searching the knowledge base 'default' and the web…", timeout=30)
                assert ollama.chats == []  # the model was not asked yet
                searxng.hold.set()
                term.wait_for("They fly south", timeout=60)
                assert term.wait_exit(30) == 0
                assert "searching the knowledge base" not in term.text  # the status line is gone
            finally:
                term.close()
    finally:
        searxng.hold.set()
        searxng.stop()
