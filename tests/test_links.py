"""An ingest stays inside its folder: links out of it (files and folders, relative or absolute,
chains, at any depth) are skipped with the reason unless links are followed on request; /proc,
/sys and /dev are never read; hidden and ignore rules apply to a link's target; loops end; and a
link swapped after discovery is not read (the reader re-checks the file it opens)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import ReadLimits, sync
from ingest.chunking import Chunker
from ingest.discovery import discover
from ingest.reading import ReadJob, read_document

from corpus import english, write_files
from secret_samples import pem

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="POSIX links")


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A home-like tree: an SSH key and notes outside `docs/`, and links out of `docs/` of every kind."""
    write_files(
        tmp_path,
        {
            "user/.ssh/id_rsa": pem(),
            "user/.ssh/config": "Host prod\n  User deploy\n",
            "user/notes/trips.md": english("trips"),
            "outside/reports/q3.md": english("quarters"),
            "docs/ducks.md": english("ducks"),
            "docs/sub/owls.md": english("owls"),
            "docs/sub/debug.log": english("logs"),
            "docs/.drafts/plan.md": english("plans"),
            "docs/.assistantignore": "*.log\n",
        },
    )
    docs = tmp_path / "docs"
    links = {
        "env.txt": "/proc/self/environ",  # absolute, into /proc
        "key.txt": "../user/.ssh/id_rsa",  # relative, out of the folder, into a hidden one
        "sub/deeper/config.txt": "../../../user/.ssh/config",  # at depth
        "chain.md": "sub/hop.md",  # a chain: chain.md -> sub/hop.md -> ../../outside/...
        "sub/hop.md": "../../outside/reports/q3.md",
        "reports": "../outside/reports",  # a folder out of the folder
        "notes": str(tmp_path / "user" / "notes"),  # absolute, to a folder
        "ssh": "../user/.ssh",  # a folder, hidden
        "devices": "/dev",
        "owls-again.md": "sub/owls.md",  # inside: followed
        "plan.md": ".drafts/plan.md",  # inside, but hidden
        "trace.md": "sub/debug.log",  # inside, but ignored
        "sub-again": "sub",  # a folder inside: its files are ingested where they lie
        "up": "..",  # the parent: a loop back to this folder
        "sub/loop": "..",
    }
    for name, target in links.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).symlink_to(target)
    return docs


def found(docs: Path, **options) -> dict[str, str | None]:
    """Path under `docs` -> None (read) or the reason it is skipped."""
    base = docs.resolve()
    return {
        f.path.relative_to(base).as_posix(): None if f.readable else f.skip_reason
        for f in discover(docs, **options)
    }


def test_links_out_of_the_folder_are_skipped_with_the_reason(world: Path) -> None:
    seen = found(world)
    read = sorted(path for path, reason in seen.items() if reason is None)
    assert read == ["ducks.md", "owls-again.md", "sub/owls.md"]
    assert seen["env.txt"] == "a link into /proc, whose system files are never read; skipped"
    assert seen["devices"] == "a link into /dev, whose system files are never read; skipped"
    outside = world.parent.resolve()
    for name, what, target in (
        ("key.txt", "file", "user/.ssh/id_rsa"),
        ("sub/deeper/config.txt", "file", "user/.ssh/config"),
        ("chain.md", "file", "outside/reports/q3.md"),
        ("sub/hop.md", "file", "outside/reports/q3.md"),
        ("reports", "folder", "outside/reports"),
        ("notes", "folder", "user/notes"),
        ("ssh", "folder", "user/.ssh"),
        ("up", "folder", ""),
    ):
        real = (outside / target) if target else outside
        assert seen[name] == (
            f"a link to a {what} outside the folder ({real}); use --follow-links (follow_links) to ingest it"
        ), name
    # Rules apply to where an inside link leads, not only to its name.
    assert seen["plan.md"] == "a link to .drafts/plan.md, which is hidden; skipped"
    assert seen["trace.md"] == "a link to sub/debug.log, which is excluded by .assistantignore; skipped"
    assert seen["sub-again"] == "a link to the folder sub, whose files are ingested where they lie; skipped"
    assert seen["sub/loop"] == "a link back to the ingested folder (a loop); skipped"


def test_following_links_still_refuses_system_and_hidden_targets_and_ends_loops(world: Path) -> None:
    seen = found(world, follow_links=True)
    read = sorted(path for path, reason in seen.items() if reason is None)
    assert read == [
        "chain.md",
        "ducks.md",
        "notes/trips.md",
        "owls-again.md",
        "reports/q3.md",
        "sub/hop.md",
        "sub/owls.md",
    ]
    assert seen["env.txt"].startswith("a link into /proc")
    assert seen["devices"].startswith("a link into /dev")
    assert seen["key.txt"].startswith("a link to a hidden path") and "in .ssh" in seen["key.txt"]
    assert seen["ssh"].startswith("a link to a hidden path")
    assert seen["sub/deeper/config.txt"].startswith("a link to a hidden path")
    # The parent is walked once; the folders already walked are not walked again.
    assert seen["up/docs"].startswith("a folder already ingested")
    assert seen["sub/loop"] == "a link back to the ingested folder (a loop); skipped"
    assert not any(path.startswith("up/user/.ssh") for path in seen)


def test_system_folders_are_never_read_even_when_named_or_linked_directly(tmp_path: Path) -> None:
    (tmp_path / "env.txt").symlink_to("/proc/self/environ")
    (tmp_path / "proc").symlink_to("/proc/self")
    for given in (Path("/proc/self/environ"), Path("/proc/self"), Path("/dev/null"), tmp_path / "env.txt"):
        [only] = list(discover(given, follow_links=True))
        assert not only.readable and "whose system files are never read" in only.skip_reason, given
    if Path("/sys").is_dir():
        [only] = list(discover(Path("/sys"), follow_links=True))
        assert only.skip_reason == "in /sys, whose system files are never read; skipped"
    assert "/proc" in found(tmp_path, follow_links=True)["proc"]


def test_a_link_swapped_after_discovery_is_not_read(tmp_path: Path) -> None:
    write_files(tmp_path, {"docs/notes.md": english("harbors"), "secret.txt": english("vaults")})
    docs = tmp_path / "docs"
    (docs / "good.md").symlink_to("notes.md")
    files = {f.path.name: f for f in discover(docs)}
    limits, chunker = ReadLimits(), Chunker()

    def read(name: str):
        f = files[name]
        info = os.stat(f.path)
        return read_document(
            ReadJob(name, f.path, info.st_size, info.st_mtime_ns, identity=f.identity, link=f.link),
            chunker,
            limits,
        )

    assert read("notes.md").status == "added" and read("good.md").status == "added"
    # Between discovery and reading, the link is pointed out of the folder, and the plain file
    # is replaced by a link: neither is read.
    (docs / "good.md").unlink()
    (docs / "good.md").symlink_to(tmp_path / "secret.txt")
    (docs / "notes.md").unlink()
    (docs / "notes.md").symlink_to(tmp_path / "secret.txt")
    for name in ("good.md", "notes.md"):
        work = read(name)
        assert (work.status, work.chunks) == ("skipped", [])
        assert work.error == "changed into another file or a link after it was found; not read (ingest again)"


def test_a_sync_keeps_to_its_folder_and_drops_what_an_old_sync_took_from_outside(
    open_kb, world: Path
) -> None:
    kb = open_kb()
    (world / "state").symlink_to(kb.home)  # the assistant's own home, also reached through "up"
    followed = sync(kb, world, follow_links=True)
    assert kb.lexical_search("quarters") and kb.lexical_search("trips")
    assert followed.files_added == 7  # nothing from the home folder
    assert {s.reason for s in followed.files_skipped_list if s.path.endswith("state")} == {
        "a link into the assistant's home folder; skipped"
    }

    summary = sync(kb, world)
    skipped = {
        Path(s.path).relative_to(world.resolve()).as_posix(): s.reason for s in summary.files_skipped_list
    }
    assert skipped["key.txt"].startswith("a link to a file outside the folder")
    for name in ("chain.md", "sub/hop.md"):  # indexed by the sync that followed links: taken out
        assert skipped[name].endswith("; its previously indexed chunks were removed"), name
    assert kb.lexical_search("quarters") == [] and kb.lexical_search("trips") == []
    assert sorted(Path(p).name for p in kb.index.files()) == ["ducks.md", "owls-again.md", "owls.md"]
    assert kb.lexical_search("BEGIN RSA PRIVATE KEY") == []


def test_the_cli_skips_links_out_and_follows_them_with_the_option(world: Path, home: Path) -> None:
    env = {
        **os.environ,
        "ASSISTANT_HOME": str(home),
        "ASSISTANT_EMBEDDER": "minilm",
        "PYTHONIOENCODING": "utf-8",
    }
    command = [sys.executable, "-c", "from assistant.cli import main; main()", "ingest", str(world), "--json"]
    plain = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    summary = json.loads(plain.stdout)
    assert summary["files_added"] == 3
    reasons = {Path(s["path"]).name: s["reason"] for s in summary["files_skipped_list"]}
    assert "outside the folder" in reasons["key.txt"] and "/proc" in reasons["env.txt"]

    followed = subprocess.run(
        [*command, "--kb", "all", "-L"], env=env, capture_output=True, text=True, timeout=300
    )
    assert followed.returncode == 0, followed.stderr
    assert json.loads(followed.stdout)["files_added"] == 7


def test_follow_links_comes_from_the_environment_or_config(home: Path) -> None:
    from assistant.settings import SettingsError, load_settings

    assert load_settings(environ={"ASSISTANT_HOME": str(home)}).follow_links is False
    assert load_settings(environ={"ASSISTANT_HOME": str(home), "ASSISTANT_FOLLOW_LINKS": "1"}).follow_links
    home.mkdir(parents=True)
    (home / "config.toml").write_text("follow_links = true\n", encoding="utf-8")
    assert load_settings(environ={"ASSISTANT_HOME": str(home)}).follow_links
    with pytest.raises(SettingsError, match="ASSISTANT_FOLLOW_LINKS"):
        load_settings(environ={"ASSISTANT_HOME": str(home), "ASSISTANT_FOLLOW_LINKS": "sometimes"})
