"""The installed `assistant chat` on a real pseudo-terminal, as a user starts it (issue 18).

Not `run_test()`: the console script runs in its own process on a pty of 80x24 and of 120x40 from
a fresh home, Textual owns that terminal, and the test reads the screen through a terminal
emulator. The model server, the search engine and the web pages are the loopback fakes; the
knowledge base is built with F3 from `../shared/data/docs/zh` (embedded through the fake Ollama's
embedding endpoint, so the ingest takes seconds; the reading, chunking, reader processes and
storage are the real ones).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus import DATA
from fakes_ollama import FakeOllamaServer, Reply
from fakes_pages import PageServer
from fakes_searxng import FakeSearxng, Hit
from terminal import Terminal

R1 = "deepseek-r1:7b"
SMALL = "deepseek-r1:1.5b"
LAW = "数据安全法规定的数据处理者有哪些义务？"
POEM = "杜甫的《登高》写了什么？"
LONG_ANSWER = "一二三四五六七八九十" * 60

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


@pytest.fixture
def servers() -> Iterator[tuple[FakeOllamaServer, FakeSearxng, PageServer]]:
    with FakeOllamaServer() as ollama:
        searxng, pages = FakeSearxng().start(), PageServer().start()
        try:
            ollama.add_model(R1)
            ollama.add_model(SMALL)
            ollama.script(
                R1,
                Reply(reasoning="先看数据安全法的条文。", answer="数据处理者应当建立数据安全管理制度 [K1]。"),
                Reply(reasoning="网页和诗集都说到登高。", answer="《登高》写登高所见，悲秋伤怀 [K1][W1]。"),
                Reply(reasoning="", answer=LONG_ANSWER, delay=0.05),
            )
            searxng.hits = [Hit(pages.url("/denggao"), "杜甫《登高》赏析", "《登高》是杜甫的七言律诗")]
            yield ollama, searxng, pages
        finally:
            pages.stop()
            searxng.stop()


def app_env(home: Path, ollama: FakeOllamaServer, searxng: FakeSearxng) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OLLAMA_", "TEXTUAL"))}
    env.update(
        TERM="xterm-256color",
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        ASSISTANT_HOME=str(home),
        OLLAMA_HOST=ollama.url(),
        ASSISTANT_EMBEDDER="ollama:fake-embed",
        ASSISTANT_ENGLISH_INDEX="0",
        ASSISTANT_SEARCH_ENGINE="searxng",
        ASSISTANT_SEARXNG_URL=searxng.url(),
        ASSISTANT_ALLOW_PRIVATE_URLS="1",
        ASSISTANT_WEB_BUDGET="8",
    )
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    return env


def installed_command() -> str:
    """The `assistant` console script installed beside this Python (pip's entry point)."""
    script = Path(sys.executable).with_name("assistant")
    if not script.exists():
        pytest.fail(f"the assistant console script is not installed at {script}: pip install -e .")
    return str(script)


def source_line(term: Terminal, label: str) -> str:
    lines = term.lines_with(f"[{label}]")
    assert lines, f"no [{label}] source on the screen:\n{term.text}"
    return lines[-1]


@pytest.mark.parametrize("cols,rows", [(80, 24), (120, 40)])
def test_installed_chat_on_a_real_terminal(servers, tmp_path: Path, cols: int, rows: int) -> None:
    ollama, searxng, _ = servers
    home = tmp_path / "home"
    # Started from a folder that holds a Python package named `ingest` (a user's project): the
    # reader processes must still run the installed readers, not import from the working directory.
    work = tmp_path / "work"
    (work / "ingest").mkdir(parents=True)
    (work / "ingest" / "__init__.py").write_text("raise ImportError('the user folder, not the readers')\n")
    term = Terminal(
        [installed_command(), "chat"], env=app_env(home, ollama, searxng), cols=cols, rows=rows, cwd=work
    )
    try:
        run_the_everyday_paths(term, ollama, searxng, home)
    finally:
        term.close()
    assert not (home / "logs" / "errors.log").exists(), (home / "logs" / "errors.log").read_text()


def run_the_everyday_paths(term: Terminal, ollama, searxng, home: Path) -> None:
    term.wait_for("does not exist yet", timeout=60)
    for key in ("F1", "F2", "F3", "F4"):  # the footer names them, even at 80 columns
        assert key.lower() in term.text.splitlines()[-1].lower(), term.text

    # F3: ingest a folder into the (new) default base, to the end.
    term.press("f3")
    term.wait_for("Knowledge bases")
    term.press("tab", "tab")
    term.type(str(DATA / "docs" / "zh"))
    term.press("tab", "enter")
    term.wait_for("done", timeout=300, fail_on=["failed:", "Error", "Traceback"])
    term.wait_for("embedded: all", timeout=60)
    term.press("escape")
    term.wait_for(lambda s: "5 documents" in s and "Knowledge bases" not in s, timeout=30)

    # A question, then a new topic with web search on: its first source is the new topic's.
    term.type(LAW)
    term.press("enter")
    term.wait_for("数据安全管理制度", timeout=60)
    term.wait_for("[K1]", timeout=30)
    assert "数据安全法" in source_line(term, "K1")

    term.press("ctrl+w")
    term.type(POEM)
    term.press("enter")
    term.wait_for("悲秋伤怀", timeout=60)
    term.wait_for(lambda s: "[W1]" in s.replace("W1]。", ""), timeout=30)
    assert "poet.tang" in source_line(term, "K1")
    assert "127.0.0.1" in source_line(term, "W1")
    assert [r.params.get("q") for r in searxng.searches] == [[POEM]]  # the question alone

    # Escape stops an answer mid-stream and keeps what arrived.
    term.press("ctrl+w")
    term.type("数一数")
    term.press("enter")
    term.wait_for("一二三四五六七八九十", timeout=60)
    term.press("escape")
    term.wait_for("(stopped)", timeout=30)

    # Up in the empty prompt recalls the last question, Down walks back to the empty prompt.
    shown = len(term.lines_with("数一数"))
    term.press("up")
    term.wait_for(lambda s: len(term.lines_with("数一数")) == shown + 1, timeout=10)
    term.press("down")
    term.wait_for(lambda s: len(term.lines_with("数一数")) == shown, timeout=10)

    # F2: the model in use is marked and the cursor starts on it; pick the other installed one.
    term.press("escape")
    term.press("f2")
    term.wait_for(lambda s: SMALL in s and "▶" in s, timeout=30)
    rows = [line for line in term.text.splitlines() if "✓" in line]
    assert any("▶" in line and R1 in line for line in rows), term.text
    names = [R1 if R1 in line else SMALL for line in rows]
    step = names.index(SMALL) - names.index(R1)
    term.press(*["down" if step > 0 else "up"] * abs(step), "enter")
    term.wait_for(lambda s: f"model {SMALL}" in s and "Models" not in s, timeout=30)

    # F4: a new chat, then reopen the first conversation from the list.
    # (A reopened conversation shows its end, as a chat app does: its last question, whatever
    # the terminal's height; its first may be scrolled off.)
    term.press("ctrl+n")
    term.wait_for(lambda s: "数一数" not in s and "悲秋伤怀" not in s, timeout=30)
    term.press("f4")
    term.wait_for("Conversations", timeout=30)
    term.press("enter")
    term.wait_for(lambda s: "数一数" in s and "(stopped)" in s and "Conversations" not in s, timeout=30)

    term.press("ctrl+q")
    assert term.wait_exit(30) == 0
