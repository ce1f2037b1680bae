"""Which files a sync considers: hidden files, .assistantignore at any depth, media types."""

from __future__ import annotations

from pathlib import Path

from ingest.discovery import discover

from corpus import write_files


def found(root: Path) -> dict[str, bool]:
    """Relative path -> readable, for everything discover() yields under `root`."""
    base = root.resolve()
    return {f.path.relative_to(base).as_posix(): f.readable for f in discover(root)}


def test_hidden_files_and_folders_are_skipped(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "a.txt": "a",
            ".secret.txt": "hidden file",
            ".git/config": "hidden folder",
            "sub/.cache/x.txt": "nested hidden folder",
            "sub/b.md": "b",
        },
    )
    assert found(tmp_path) == {"a.txt": True, "sub/b.md": True}


def test_root_ignore_file_with_globs_folders_and_negation(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            ".assistantignore": "# comment\n*.log\ndrafts/\n!keep.log\n",
            "a.txt": "a",
            "debug.log": "ignored",
            "keep.log": "re-included",
            "sub/trace.log": "ignored at any depth",
            "sub/keep.log": "re-included at any depth",
            "drafts/d.txt": "ignored folder",
            "sub/drafts/d.txt": "ignored folder at any depth",
            "drafts.txt": "a file, not the folder",
        },
    )
    assert found(tmp_path) == {
        "a.txt": True,
        "drafts.txt": True,
        "keep.log": True,
        "sub/keep.log": True,
    }


def test_ignore_file_in_a_subfolder_applies_relative_to_it(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "tmp.bak": "not ignored: the pattern is in sub/",
            "build/out.txt": "not ignored: /build is anchored to sub/",
            "sub/.assistantignore": "*.bak\n/build/\n",
            "sub/old.bak": "ignored",
            "sub/build/out.txt": "ignored",
            "sub/deeper/build/out.txt": "not ignored: /build/ is anchored",
            "sub/deeper/x.bak": "ignored at any depth below sub/",
            "sub/kept.txt": "kept",
            "other/y.bak": "not ignored: a sibling of sub/",
        },
    )
    assert found(tmp_path) == {
        "build/out.txt": True,
        "other/y.bak": True,
        "sub/deeper/build/out.txt": True,
        "sub/kept.txt": True,
        "tmp.bak": True,
    }


def test_subfolder_ignore_file_can_reinclude_what_the_root_ignores(tmp_path: Path) -> None:
    # As in git, the deeper ignore file has the last word.
    write_files(
        tmp_path,
        {
            ".assistantignore": "*.log\n",
            "root.log": "ignored",
            "sub/.assistantignore": "!important.log\n",
            "sub/important.log": "re-included by sub/.assistantignore",
            "sub/other.log": "still ignored",
        },
    )
    assert found(tmp_path) == {"sub/important.log": True}


def test_media_files_are_listed_as_unreadable_not_read(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {"anim.GIF": b"GIF89a", "song.mp3": b"ID3", "pack.zip": b"PK", "notes.txt": "n"},
    )
    assert found(tmp_path) == {"notes.txt": True, "pack.zip": False, "anim.GIF": False, "song.mp3": False}


def test_single_file_and_sorted_order(tmp_path: Path) -> None:
    write_files(tmp_path, {"b.txt": "b", "a/z.txt": "z", "a.txt": "a", "c.png": b"png"})
    assert list(found(tmp_path)) == ["a.txt", "b.txt", "c.png", "a/z.txt"]
    only = list(discover(tmp_path / "b.txt"))
    assert [(f.path, f.readable) for f in only] == [((tmp_path / "b.txt").resolve(), True)]


def test_dangling_symlinks_are_skipped(tmp_path: Path) -> None:
    write_files(tmp_path, {"real.txt": "r"})
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    assert found(tmp_path) == {"real.txt": True}


def test_the_assistant_home_inside_the_folder_is_never_ingested(open_kb, tmp_path: Path) -> None:
    from ingest import sync

    folder = write_files(tmp_path / "everything", {"notes.md": "# Notes\n\nDucks swim in the lake.\n"})
    kb = open_kb(at=folder / "assistant-home")
    sync(kb, folder)
    summary = sync(kb, folder)
    assert summary.files_seen == 1
    assert list(kb.index.files()) == [str((folder / "notes.md").resolve())]
