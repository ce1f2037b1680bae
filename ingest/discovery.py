"""Which files under a folder are ingested: everything but hidden files and folders, paths
matched by a `.assistantignore` (gitignore syntax, in the folder or any subfolder, relative to
the folder it is in), and media/binary types that are never documents."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from .formats import kind_of

IGNORE_FILE = ".assistantignore"


@dataclass(frozen=True)
class Found:
    path: Path
    #: False for files skipped quietly (media types); they are counted, never read.
    readable: bool


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
    if root.is_file():
        yield Found(root, kind_of(root) is not None)
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
            if path.is_symlink() and not path.exists():
                continue  # a dangling link
            if ignored(path, False):
                continue
            yield Found(path, kind_of(path) is not None)
