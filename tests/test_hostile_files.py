"""Hostile files cost that one file, never the ingest: pipes, devices, sockets, link loops, huge
files, zip bombs, deep nesting, and readers that hang, crash or eat memory. Every case is made
here, in the test."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from ingest import ReadLimits, sync
from ingest.discovery import discover
from ingest.limits import LimitExceededError, check_expansion

import hostile_readers
from corpus import english, write_files
from kb_state import kb_state

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX file types")

MB = 1024 * 1024
LIMITS = ReadLimits(max_file_mb=1, max_expanded_mb=4, file_timeout=4, worker_memory_mb=768)


def zip_bomb(member: str = "word/document.xml", size: int = 20 * MB) -> bytes:
    """A small zip whose one member inflates to `size` bytes of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open(member, "w", force_zip64=True) as out:
            block = bytes(MB)
            for _ in range(size // MB):
                out.write(block)
    return buffer.getvalue()


def odd_name(folder: Path) -> Path:
    """A file whose name is not valid UTF-8 (Latin-1 'café'), with good text in it."""
    raw = os.path.join(os.fsencode(folder), b"caf\xe9.txt")
    with open(raw, "wb") as f:
        f.write(english("espresso").encode())
    return Path(os.fsdecode(raw))


def hostile_folder(root: Path) -> Path:
    """Good documents beside one file of every hostile class; returns the folder."""
    folder = write_files(
        root,
        {
            "good/ducks.md": english("ducks"),
            "good/owls.txt": english("owls"),
            "deep.json": "[" * 200_000 + "]" * 200_000,
            "deep.html": "<html><body>" + "<div>" * 100_000 + "text" + "</div>" * 100_000,
            "bomb.docx": zip_bomb(),
            "segv.txt": "SEGV " + english("crash"),
            "exit.txt": "EXIT " + english("exit"),
            "hang.txt": "HANG " + english("hang"),
            "bloat.txt": "BLOAT " + english("bloat"),
            "recurse.txt": "RECURSE " + english("recursion"),
        },
    )
    with open(folder / "huge.log", "wb") as f:  # sparse: no disk, but over the size limit
        f.truncate(3 * MB)
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    (folder / "good-link.md").symlink_to(folder / "good" / "ducks.md")
    odd_name(folder)
    return folder


def bind_socket(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cwd = os.getcwd()
    os.chdir(path.parent)  # a relative address: tmp paths can exceed the 108-byte limit
    try:
        sock.bind(path.name)
    finally:
        os.chdir(cwd)
    return sock


def test_discovery_skips_non_regular_files_with_a_reason(tmp_path: Path) -> None:
    folder = write_files(tmp_path, {"a.txt": "a"})
    os.mkfifo(folder / "pipe.md")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "self.txt").symlink_to(folder / "self.txt")
    (folder / "link.txt").symlink_to(folder / "a.txt")
    (folder / "dangling.txt").symlink_to(folder / "nowhere.txt")
    sock = bind_socket(folder / "sock.txt")
    try:
        found = {f.path.name: (f.readable, f.skip_reason) for f in discover(folder)}
    finally:
        sock.close()
    assert found["a.txt"] == (True, None)
    assert found["link.txt"] == (True, None)  # links to regular files are followed
    assert "dangling.txt" not in found
    assert found["pipe.md"] == (False, "a named pipe (FIFO), not a regular file; skipped")
    assert found["zero.txt"] == (False, "a link into /dev, whose system files are never read; skipped")
    assert found["self.txt"] == (False, "a symbolic link loop; skipped")
    assert found["sock.txt"] == (False, "a socket, not a regular file; skipped")
    # Given directly, a device is refused the same way instead of being read.
    assert [(f.readable, f.skip_reason) for f in discover(Path("/dev/null"))] == [
        (False, "in /dev, whose system files are never read; skipped")
    ]


def test_zip_expansion_is_limited_by_declared_and_actual_sizes() -> None:
    limits = ReadLimits(max_expanded_mb=4)
    with pytest.raises(LimitExceededError, match="ASSISTANT_MAX_EXPANDED_MB"):
        check_expansion(zip_bomb(size=5 * MB), limits)
    check_expansion(zip_bomb(size=3 * MB), limits)  # under the limit: fine
    check_expansion(b"PK\x03\x04 not really a zip", limits)  # left to the reader to report


def test_a_folder_of_hostile_files_costs_only_those_files(open_kb, tmp_path: Path) -> None:
    folder = hostile_folder(tmp_path / "mixed")
    sock = bind_socket(folder / "sock.txt")
    kb = open_kb()
    started = time.monotonic()
    try:
        summary = sync(kb, folder, limits=LIMITS, workers=2, parser=hostile_readers.parse)
    finally:
        sock.close()
    elapsed = time.monotonic() - started
    # One hang costs the 4 s time limit; the rest is quick (the bound is generous for slow CI).
    assert elapsed < 90, elapsed

    failed = {Path(f.path).name: f.error for f in summary.files_failed}
    skipped = {Path(s.path).name: s.reason for s in summary.files_skipped_list}
    assert "ASSISTANT_MAX_FILE_MB" in failed["huge.log"]
    assert "ASSISTANT_MAX_EXPANDED_MB" in failed["bomb.docx"]
    assert "ASSISTANT_FILE_TIMEOUT" in failed["hang.txt"]
    assert "ASSISTANT_WORKER_MEMORY_MB" in failed["bloat.txt"] or "SIGKILL" in failed["bloat.txt"]
    assert failed["segv.txt"].startswith("the reader crashed (SIGSEGV)")
    assert failed["exit.txt"] == "the reader process exited unexpectedly (status 3)"
    assert failed["recurse.txt"] == "nested too deeply to read (RecursionError)"
    assert failed["deep.json"] == "nested too deeply to read (RecursionError)"
    assert skipped == {
        "pipe.txt": "a named pipe (FIFO), not a regular file; skipped",
        "zero.txt": "a link into /dev, whose system files are never read; skipped",
        "loop-a.txt": "a symbolic link loop; skipped",
        "loop-b.txt": "a symbolic link loop; skipped",
        "sock.txt": "a socket, not a regular file; skipped",
    }
    # Deeply nested HTML may be read or refused, but never silently lost.
    assert "deep.html" in failed or any(
        r.path.endswith("deep.html") for r in kb.index.files(under=str(folder.resolve())).values()
    )
    for error in failed.values():
        assert "\n" not in error and len(error) < 300

    # The good files, the followed link and the non-UTF-8 name are all in the base.
    manifest = kb.index.files(under=str(folder.resolve()))
    names = {Path(p).name for p in manifest}
    assert {"ducks.md", "owls.txt", "good-link.md", "caf\\xe9.txt"} <= names
    assert summary.files_added == len(manifest)
    hits = kb.lexical_search("espresso habits")
    assert hits and hits[0].metadata["source"].endswith("caf\\xe9.txt")
    assert kb.lexical_search("owls habits")[0].metadata["source"].endswith("owls.txt")
    kb_state(kb).assert_consistent()
    json.dumps(summary.to_dict(), ensure_ascii=False).encode("utf-8")  # no lone surrogates

    # A second sync reads nothing again and reports the same bad files, as still failing.
    again = sync(kb, folder, limits=LIMITS, workers=2, parser=hostile_readers.parse)
    assert again.files_unchanged == len(manifest)
    assert again.files_failed == []
    assert {Path(f.path).name for f in again.files_still_failing} == set(failed)


def test_a_file_that_outgrows_the_limit_loses_its_old_chunks(open_kb, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "docs", {"notes.txt": english("harbors")})
    kb = open_kb()
    sync(kb, folder, limits=LIMITS)
    assert kb.lexical_search("harbors")
    with open(folder / "notes.txt", "ab") as f:
        f.truncate(2 * MB)
    summary = sync(kb, folder, limits=LIMITS)
    assert [f.error for f in summary.files_failed] == [
        "2.0 MB, larger than the 1 MB limit (ASSISTANT_MAX_FILE_MB); raise it to ingest this file; "
        "its previously indexed chunks were removed"
    ]
    assert kb.lexical_search("harbors") == []


def test_odd_file_names_survive_the_cli_progress_and_json(tmp_path: Path, home: Path) -> None:
    folder = write_files(tmp_path / "docs", {"[bold]x[/].md": english("lanterns"), "ok.md": english("owls")})
    odd_name(folder)
    os.mkfifo(folder / "pipe.txt")
    with open(folder / "big.txt", "wb") as f:
        f.truncate(2 * MB)
    env = {
        **os.environ,
        "ASSISTANT_HOME": str(home),
        "ASSISTANT_EMBEDDER": "minilm",
        "ASSISTANT_MAX_FILE_MB": "1",
        "PYTHONIOENCODING": "utf-8",
    }
    command = [sys.executable, "-c", "from assistant.cli import main; main()", "ingest", str(folder)]

    plain = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr  # big.txt is over the limit: listed, not fatal
    assert "Traceback" not in plain.stderr
    assert "added " in plain.stderr and "caf\\xe9.txt" in plain.stderr
    assert "[bold]x[/].md" in plain.stderr
    assert "pipe.txt: a named pipe (FIFO), not a regular file; skipped" in plain.stderr
    assert "ASSISTANT_MAX_FILE_MB" in plain.stderr

    as_json = subprocess.run(
        [*command, "--kb", "again", "--json", "--strict"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert as_json.returncode == 3, as_json.stderr  # --strict: a failed file is status 3
    summary = json.loads(as_json.stdout)
    assert summary["files_added"] == 3
    assert any(f["path"].endswith("big.txt") for f in summary["files_failed"])
    assert [Path(s["path"]).name for s in summary["files_skipped_list"]] == ["pipe.txt"]


def test_a_folder_whose_name_is_not_utf8_is_synced(open_kb, tmp_path: Path) -> None:
    folder = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"d\xe9p\xf4t")))
    write_files(folder, {"notes.md": english("meadows")})
    kb = open_kb()
    summary = sync(kb, folder)
    assert summary.files_added == 1
    assert sync(kb, folder).files_unchanged == 1
    (folder / "notes.md").unlink()
    assert sync(kb, folder).files_removed == 1
    assert kb.lexical_search("meadows") == []


def test_limit_settings_come_from_the_environment_and_bad_values_name_the_setting(home: Path) -> None:
    from assistant.settings import SettingsError, load_settings

    env = {
        "ASSISTANT_HOME": str(home),
        "ASSISTANT_MAX_FILE_MB": "5",
        "ASSISTANT_MAX_EXPANDED_MB": "50",
        "ASSISTANT_FILE_TIMEOUT": "7.5",
        "ASSISTANT_WORKER_MEMORY_MB": "1024",
    }
    assert load_settings(environ=env).read_limits() == ReadLimits(5, 50, 7.5, 1024)
    assert load_settings(environ={"ASSISTANT_HOME": str(home)}).read_limits() == ReadLimits()
    for var, value in (
        ("ASSISTANT_MAX_FILE_MB", "0"),
        ("ASSISTANT_FILE_TIMEOUT", "inf"),
        ("ASSISTANT_MAX_EXPANDED_MB", "nan"),
        ("ASSISTANT_WORKER_MEMORY_MB", "lots"),
    ):
        with pytest.raises(SettingsError, match=var):
            load_settings(environ={"ASSISTANT_HOME": str(home), var: value})
