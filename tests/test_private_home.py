"""The home folder is private: after an ingest, a chat (its store written) and an export, every
folder in a fresh home is 0700 and every file 0600 (databases with their -wal/-shm files, Chroma's
files, logs, exports); an older, open home is tightened on first use without touching anything
outside it; the fallback error log is never a fixed name in a shared folder."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import OptionList

from assistant.errors import log_unexpected
from assistant.home import make_private, tighten
from assistant.session import Session
from assistant.settings import load_settings
from tui.app import AssistantApp
from tui.screens.history import HistoryScreen
from tui.widgets.message import ChatMessage
from tui.widgets.prompt import PromptInput

from corpus import english, write_files
from fakes_ollama import FakeOllamaServer, Reply

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")

R1 = "deepseek-r1:7b"


def loose_modes(home: Path) -> dict[str, str]:
    """Every file or folder under `home` (itself included) that group or others can use."""
    loose = {}
    for path in [home, *home.rglob("*")]:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            continue
        if info.st_mode & 0o077:
            loose[path.relative_to(home).as_posix()] = oct(stat.S_IMODE(info.st_mode))
    return loose


def kinds(home: Path) -> set[str]:
    return {p.name for p in home.rglob("*")}


@pytest.fixture
def private_process(home: Path) -> Iterator[None]:
    """This process as the `assistant` command leaves it (umask 0o077), restored afterwards."""
    previous = make_private(home)
    yield
    os.umask(previous)


def test_a_fresh_home_is_private_after_an_ingest(home: Path, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "docs", {"ducks.md": english("ducks"), "owls.txt": english("owls")})
    previous = os.umask(0o022)  # as on most machines: the command, not the caller, makes it private
    try:
        env = {**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_EMBEDDER": "minilm"}
        command = [sys.executable, "-c", "from assistant.cli import main; main()", "ingest", str(folder)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    finally:
        os.umask(previous)
    assert done.returncode == 0, done.stderr
    assert {"kb.sqlite", "chroma.sqlite3", "lock"} <= kinds(home)
    assert loose_modes(home) == {}
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    # The documents themselves are the user's: an ingest never changes them.
    assert stat.S_IMODE((folder / "ducks.md").stat().st_mode) == 0o644


async def test_chat_store_and_export_are_private(
    home: Path, private_process, open_kb, tmp_path: Path
) -> None:
    with FakeOllamaServer() as ollama:
        ollama.add_model(R1)
        ollama.script(R1, Reply(reasoning="想一想。", answer="Ducks swim [K1].", tokens_per_second=40))
        kb = open_kb()
        from ingest import sync

        sync(kb, write_files(tmp_path / "notes", {"ducks.md": english("ducks")}))
        kb.close()
        settings = load_settings(environ={"ASSISTANT_HOME": str(home), "OLLAMA_HOST": ollama.url()})
        app = AssistantApp(settings, Session(settings))
        async with app.run_test(size=(100, 30)) as pilot:
            prompt = app.screen.query_one(PromptInput)
            prompt.text = "Do ducks swim?"
            prompt.focus()
            await pilot.press("enter")
            for _ in range(300):
                await pilot.pause(0.1)
                opened = app.conversation_id and app.session.open_conversation(app.conversation_id)
                if opened and opened[1]:
                    break
            assert [m.question for m in app.screen.query(ChatMessage)] == ["Do ducks swim?"]
            await pilot.press("f4")
            assert isinstance(app.screen, HistoryScreen)
            app.screen.query_one(OptionList).highlighted = 0
            await pilot.press("e")
            await pilot.pause(0.2)
    assert list((home / "exports").glob("conversation-*.md"))
    assert {"conversations.sqlite", "kb.sqlite", "exports"} <= kinds(home)
    assert loose_modes(home) == {}


def test_an_older_open_home_is_tightened_without_following_links(home: Path, tmp_path: Path) -> None:
    outside = write_files(tmp_path / "outside", {"shared.txt": "everyone reads this", "dir/x.txt": "x"})
    write_files(home, {"kbs/notes/kb.sqlite": "db", "logs/errors.log": "log", "exports/c.md": "chat"})
    for path in [home, *home.rglob("*"), *outside.rglob("*"), outside]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (home / "kbs" / "link-to-file").symlink_to(outside / "shared.txt")
    (home / "kbs" / "link-to-dir").symlink_to(outside / "dir")
    (home / "exports" / "run.sh").write_text("#!/bin/sh\n", encoding="utf-8")
    (home / "exports" / "run.sh").chmod(0o775)

    assert tighten(home) == 9  # the home, the 4 folders in it, 4 files
    assert loose_modes(home) == {}
    assert stat.S_IMODE((home / "exports" / "run.sh").stat().st_mode) == 0o700  # stays executable
    assert stat.S_IMODE((outside / "shared.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((outside / "dir").stat().st_mode) == 0o755
    assert stat.S_IMODE((outside / "dir" / "x.txt").stat().st_mode) == 0o644
    assert tighten(home) == 0  # nothing left to do


def test_the_command_tightens_an_existing_home_on_first_use(home: Path) -> None:
    write_files(home, {"config.toml": 'kb = "notes"\n', "kbs/notes/kb.sqlite": "db"})
    for path in [home, *home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", "from assistant.cli import main; main()", "kb", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert loose_modes(home) == {}


def test_the_users_own_home_folder_is_never_tightened(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    user = write_files(tmp_path / "user", {"public_html/index.html": "<p>hi</p>"})
    for path in [user, *user.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    monkeypatch.setenv("HOME", str(user))
    assert tighten(user) == 0 and tighten(tmp_path) == 0
    assert loose_modes(user) != {}


def test_the_error_log_is_private_and_never_a_fixed_name_in_a_shared_folder(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = RuntimeError("deliberate")
    shown = log_unexpected(error, home)
    log = home / "logs" / "errors.log"
    assert str(log) in shown and stat.S_IMODE(log.stat().st_mode) == 0o600

    # The home cannot hold a log (its logs/ is a file): the user's own state folder is next.
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    blocked = tmp_path / "blocked-home"
    write_files(blocked, {"logs": "not a folder"})
    shown = log_unexpected(error, blocked)
    [user_log] = state.rglob("errors.log")
    assert str(user_log) in shown and "deliberate" in user_log.read_text()
    assert stat.S_IMODE(user_log.stat().st_mode) == 0o600

    # Nowhere private: a new file of a random name in the temporary folder, never a fixed one
    # (a link planted there by another user is not followed).
    shared = tmp_path / "tmp"
    shared.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    state.rename(tmp_path / "state-old")
    state.write_text("not a folder")
    planted = tmp_path / "victim.txt"
    planted.write_text("untouched")
    (shared / "r1-assistant-errors.log").symlink_to(planted)
    first, second = log_unexpected(error, blocked), log_unexpected(error, blocked)
    logs = sorted(shared.glob("r1-assistant-errors-*.log"))
    assert len(logs) == 2 and str(logs[0]) in first + second and first != second
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in logs)
    assert planted.read_text() == "untouched"
