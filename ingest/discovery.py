"""Which files under a folder are ingested: everything but hidden files and folders, paths
matched by a `.assistantignore` (gitignore syntax, in the folder or any subfolder, relative to
the folder it is in), and media/binary types that are never documents.

Only regular files are read. Links to regular files are followed; links that loop, and pipes,
devices and sockets (which can block a reader forever or never end) are listed with the reason
they were skipped."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from .formats import kind_of

IGNORE_FILE = ".assistantignore"


@dataclass(frozen=True)
class Found:
    path: Path
    #: False for files that are never read: media types (skipped quietly) and non-regular files.
    readable: bool
    #: Why a file that is not a document was skipped (a pipe, a device, a link loop), for the report.
    skip_reason: str | None = None


def path_key(path: Path) -> str:
    """`path` as text that is always valid UTF-8: the key of a file in the base and in reports.

    A name that is not valid UTF-8 (possible on Linux) keeps its odd bytes as `\\xNN` escapes, so
    it can be stored, shown and written as JSON; valid names are unchanged.
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def classify(path: Path) -> Found | None:
    """A Found for `path` (links followed), or None for a dangling link (skipped quietly)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Found(path, False, "a symbolic link loop; skipped")
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return None
        return Found(path, False, f"cannot be examined ({exc.strerror or exc}); skipped")
    if stat.S_ISREG(mode):
        return Found(path, kind_of(path) is not None)
    what = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    via = "a link to " if os.path.islink(path) else ""
    return Found(path, False, f"{via}{what}, not a regular file; skipped")


def _load_spec(folder: Path) -> pathspec.PathSpec | None:
    ignore = folder / IGNORE_FILE
    if not ignore.is_file():
        return None
    lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines)


def discover(root: Path, exclude: Path | None = None) -> Iterator[Found]:
    """Files to consider under `root` (or `root` itself if it is a file), in sorted order.

    `exclude` is a folder never to descend into: the assistant's own home, when a user ingests
    a folder that contains it.
    """
    root = root.resolve()
    exclude = exclude.resolve() if exclude else None
    if not root.is_dir():
        if (found := classify(root)) is not None:
            yield found
        return
    specs: list[tuple[Path, pathspec.PathSpec]] = []

    def ignored(path: Path, is_dir: bool) -> bool:
        # As in git, the deepest ignore file with a matching pattern decides ("!x" re-includes).
        for base, spec in reversed(specs):
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            verdict = spec.check_file(rel + ("/" if is_dir else "")).include
            if verdict is not None:
                return verdict
        return False

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        # Drop specs of folders we have left.
        specs[:] = [(b, s) for b, s in specs if here == b or b in here.parents]
        if (spec := _load_spec(here)) is not None:
            specs.append((here, spec))
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and here / d != exclude and not ignored(here / d, True)
        )
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = here / name
            if ignored(path, False):
                continue
            if (found := classify(path)) is not None:
                yield found
