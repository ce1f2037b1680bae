"""Which files under a folder are ingested: everything but hidden files and folders, paths
matched by a `.assistantignore` (gitignore syntax, in the folder or any subfolder, relative to
the folder it is in), media/binary types that are never documents, and files that hold secrets
by their name (ingest.secret_rules).

An ingest stays inside its folder. A symbolic link (to a file or a folder, at any depth) whose
target lies outside the folder is skipped and listed with the reason, unless the user asks to
follow links (`follow_links`, as ripgrep's `-L`). A link inside the folder is judged by its
target too: hidden-path and ignore rules apply to the resolved path (relative to the folder) as
well as to the link's own name. Links to folders inside the folder are not walked twice (their
files are ingested where they lie). `/proc`, `/sys` and `/dev` are never read, whatever the
option and even when the ingested path itself is in them or links into them.

Only regular files are read: link loops, pipes, devices and sockets (which can block a reader
forever or never end) are listed with the reason they were skipped. Each file found carries the
identity (device, inode) that was checked; the reader refuses any other file at that path
(ingest.reading), so a link swapped after discovery cannot redirect it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pathspec

from .formats import kind_of
from .secret_rules import SecretRules

IGNORE_FILE = ".assistantignore"

#: Kernel pseudo-filesystems: never read (a link to /proc/self/environ would index the
#: environment; /dev holds devices and /sys kernel state).
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")

_FOLLOW_HINT = "use --follow-links (follow_links) to ingest it"


@dataclass(frozen=True)
class Found:
    path: Path
    #: False for files that are never read: media types (skipped quietly) and non-regular files.
    readable: bool
    #: Why a file is not read (a pipe, a link out of the folder, a secret), for the report.
    skip_reason: str | None = None
    #: (st_dev, st_ino) of the regular file that was checked: the reader reads no other.
    identity: tuple[int, int] | None = None
    #: Whether `path` is a symbolic link (the reader opens it following the link).
    link: bool = False


def path_key(path: Path) -> str:
    """`path` as text that is always valid UTF-8: the key of a file in the base and in reports.

    A name that is not valid UTF-8 (possible on Linux) keeps its odd bytes as `\\xNN` escapes, so
    it can be stored, shown and written as JSON; valid names are unchanged.
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


@cache
def system_devices() -> frozenset[int]:
    """The st_dev of each mounted SYSTEM_FOLDER (one that is a file system of its own)."""
    try:
        root = os.stat("/").st_dev
    except OSError:
        return frozenset()
    devices = set()
    for folder in SYSTEM_FOLDERS:
        try:
            device = os.stat(folder).st_dev
        except OSError:
            continue
        if device != root:
            devices.add(device)
    return frozenset(devices)


def system_folder(real: Path, device: int | None = None) -> str | None:
    """The system folder that `real` (a resolved path) lies in, or None."""
    for folder in SYSTEM_FOLDERS:
        if real == Path(folder) or Path(folder) in real.parents:
            return folder
    if device is not None and device in system_devices():
        return "a system file system"
    return None


def _never_read(folder: str) -> str:
    return f"in {folder}, whose system files are never read; skipped"


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def _kind_text(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def classify(path: Path) -> Found | None:
    """A Found for `path` (links followed), or None for a dangling link (skipped quietly)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Found(path, False, "a symbolic link loop; skipped")
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return None
        return Found(path, False, f"cannot be examined ({exc.strerror or exc}); skipped")
    link = os.path.islink(path)
    if stat.S_ISREG(info.st_mode):
        return Found(path, kind_of(path) is not None, identity=(info.st_dev, info.st_ino), link=link)
    via = "a link to " if link else ""
    return Found(path, False, f"{via}{_kind_text(info.st_mode)}, not a regular file; skipped", link=link)


class _IgnoreRules:
    """Hidden names and `.assistantignore` files under one root, loaded once per folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.specs: dict[Path, pathspec.PathSpec | None] = {}

    def _spec(self, folder: Path) -> pathspec.PathSpec | None:
        if folder not in self.specs:
            ignore = folder / IGNORE_FILE
            spec = None
            if ignore.is_file():
                lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
                spec = pathspec.GitIgnoreSpec.from_lines(lines)
            self.specs[folder] = spec
        return self.specs[folder]

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """Whether an ignore file in a folder above `path` (up to the root) excludes it. As in
        git, the deepest ignore file with a matching pattern decides ("!x" re-includes)."""
        rel = path.relative_to(self.root)
        folders = [self.root, *(self.root / Path(*rel.parts[:i]) for i in range(1, len(rel.parts)))]
        for folder in reversed(folders):
            spec = self._spec(folder)
            if spec is None:
                continue
            verdict = spec.check_file(path.relative_to(folder).as_posix() + ("/" if is_dir else "")).include
            if verdict is not None:
                return verdict
        return False

    def excludes(self, real: Path, is_dir: bool) -> str | None:
        """Why the path `real` (resolved, under the root) is not ingested: a hidden part, or an
        ignore rule on it or on a folder above it; None when it is ingested."""
        rel = real.relative_to(self.root)
        for i, part in enumerate(rel.parts, start=1):
            last = i == len(rel.parts)
            if part.startswith("."):
                return "hidden"
            if self.ignored(self.root / Path(*rel.parts[:i]), is_dir or not last):
                return f"excluded by {IGNORE_FILE}"
        return None


class _Walk:
    """One discovery: the rules, and the folders already walked (links to folders can loop).

    Folders are listed through a descriptor whose identity is checked against the one seen from
    the folder above, so a folder swapped for a link while the walk runs is not listed.
    """

    def __init__(self, root: Path, exclude: Path | None, follow_links: bool, secrets: SecretRules) -> None:
        self.root, self.exclude, self.follow, self.secrets = root, exclude, follow_links, secrets
        # The home is known by identity too: a followed link can reach it under another path.
        try:
            home = os.stat(exclude) if exclude is not None else None
        except OSError:
            home = None
        self.home = (home.st_dev, home.st_ino) if home is not None else None
        self.rules = _IgnoreRules(root)
        self.walked: set[tuple[int, int]] = set()

    def inside(self, real: Path) -> bool:
        return real == self.root or self.root in real.parents

    def folders(self, start: Path) -> Iterator[Found]:
        """Files under `start` (files of a folder first, then its subfolders), depth first."""
        stack: list[tuple[Path, tuple[int, int] | None]] = [(start, None)]
        while stack:
            here, expected = stack.pop()
            subfolders: list[tuple[Path, tuple[int, int]]] = []
            yield from self.folder(here, expected, subfolders)
            stack.extend(reversed(subfolders))

    def folder(
        self, here: Path, expected: tuple[int, int] | None, subfolders: list[tuple[Path, tuple[int, int]]]
    ) -> Iterator[Found]:
        try:
            fd = os.open(here, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            yield Found(here, False, f"a folder that cannot be listed ({exc.strerror or exc}); skipped")
            return
        try:
            info = os.fstat(fd)
            if expected is not None and (info.st_dev, info.st_ino) != expected:
                yield Found(here, False, "a folder that changed while it was being read; skipped")
                return
            self.walked.add((info.st_dev, info.st_ino))
            # Listed through the descriptor where the platform can (not on Windows).
            listing = os.scandir(fd if os.scandir in os.supports_fd else here)
            entries = sorted(listing, key=lambda e: e.name)
            # Entries are examined through the folder's descriptor, so keep it open meanwhile.
            for entry in entries:
                if (found := self.entry(here, entry, subfolders)) is not None:
                    yield found
        except OSError as exc:
            yield Found(here, False, f"a folder that cannot be listed ({exc.strerror or exc}); skipped")
        finally:
            os.close(fd)

    def entry(
        self, here: Path, entry: os.DirEntry, subfolders: list[tuple[Path, tuple[int, int]]]
    ) -> Found | None:
        if entry.name.startswith("."):
            return None
        path = here / entry.name
        try:
            own = entry.stat(follow_symlinks=False)
            is_dir = entry.is_dir()
        except OSError:
            return classify(path)
        if self.rules.ignored(path, is_dir):
            return None
        if stat.S_ISLNK(own.st_mode):
            return self.link(path, subfolders)
        if stat.S_ISDIR(own.st_mode):
            if (own.st_dev, own.st_ino) in self.walked:  # reached again through a followed link
                return Found(path, False, "a folder already ingested (reached again through a link); skipped")
            if path != self.exclude and (own.st_dev, own.st_ino) != self.home:
                subfolders.append((path, (own.st_dev, own.st_ino)))
            return None
        return self.file(path, identity=(own.st_dev, own.st_ino))

    def file(
        self, path: Path, *, real: Path | None = None, identity: tuple[int, int] | None = None
    ) -> Found | None:
        """A regular file (or a link to one, whose resolved path is `real`), checked. `identity`
        is the file seen when the folder was listed: another one found now is not read."""
        found = classify(path)
        if found is None or not found.readable:
            return found
        if identity is not None and found.identity != identity:
            return Found(path, False, "a file that changed while it was being read; skipped", link=found.link)
        for name in dict.fromkeys((path.name, (real or path).name)):
            if reason := self.secrets.name_reason(name):
                return Found(path, False, reason, link=found.link)
        if found.identity is not None and (where := system_folder(real or path, found.identity[0])):
            return Found(path, False, _never_read(where), link=found.link)
        return found

    def link(self, path: Path, subfolders: list[tuple[Path, tuple[int, int]]]) -> Found | None:
        """A symbolic link: followed, walked (a folder) or skipped with the reason."""
        try:
            target = os.stat(path)
        except OSError:
            return classify(path)  # a loop (listed) or a dangling link (quiet)
        real = Path(os.path.realpath(path))
        identity = (target.st_dev, target.st_ino)
        try:
            settled = os.stat(real, follow_symlinks=False)
        except OSError:
            settled = None
        if settled is None or (settled.st_dev, settled.st_ino) != identity:
            return Found(path, False, "a link that changed while it was being read; skipped", link=True)
        is_dir = stat.S_ISDIR(target.st_mode)
        if why := self.link_refusal(path, real, is_dir, target.st_dev):
            return Found(path, False, why, link=True)
        if is_dir:
            if identity in self.walked:
                return Found(path, False, "a link to a folder already ingested (a loop); skipped", link=True)
            self.walked.add(identity)
            subfolders.append((path, identity))
            return None
        return self.file(path, real=real, identity=identity)

    def link_refusal(self, path: Path, real: Path, is_dir: bool, device: int) -> str | None:
        """Why the link at `path`, resolving to `real`, is not followed; None when it is."""
        if where := system_folder(real, device):
            return f"a link into {where}, whose system files are never read; skipped"
        if self.exclude is not None and (real == self.exclude or self.exclude in real.parents):
            return "a link into the assistant's home folder; skipped"
        if not self.inside(real):
            if not self.follow:
                what = "folder" if is_dir else "file"
                return f"a link to a {what} outside the folder ({path_key(real)}); {_FOLLOW_HINT}"
            if hidden := _hidden_part(real, self.root):
                return f"a link to a hidden path ({path_key(real)}, in {hidden}); skipped"
            return None
        rel = path_key(real.relative_to(self.root))
        if why := self.rules.excludes(real, is_dir):
            return f"a link to {rel}, which is {why}; skipped"
        if real == self.root:
            return "a link back to the ingested folder (a loop); skipped"
        if is_dir:
            return f"a link to the folder {rel}, whose files are ingested where they lie; skipped"
        return None


def _hidden_part(real: Path, root: Path) -> str | None:
    """The first hidden name in `real` below the folder it shares with `root`, or None: a link
    out of the folder may follow into ~/notes but not into ~/.ssh."""
    shared = 0
    for mine, theirs in zip(real.parts, root.parts, strict=False):
        if mine != theirs:
            break
        shared += 1
    return next((part for part in real.parts[shared:] if part.startswith(".")), None)


def discover(
    root: Path,
    exclude: Path | None = None,
    *,
    follow_links: bool = False,
    secrets: SecretRules | None = None,
) -> Iterator[Found]:
    """Files to consider under `root` (or `root` itself if it is a file), in sorted order.

    `exclude` is a folder never to descend into: the assistant's own home, when a user ingests
    a folder that contains it. `follow_links` follows links that lead out of `root`; `secrets`
    adds the user's own secret file names to the built-in ones.
    """
    root = root.resolve()
    exclude = exclude.resolve() if exclude else None
    walk = _Walk(root, exclude, follow_links, secrets or SecretRules())
    try:
        device = os.stat(root).st_dev
    except OSError:
        device = None
    if where := system_folder(root, device):
        yield Found(root, False, _never_read(where))
        return
    if not root.is_dir():
        if (found := walk.file(root)) is not None:
            yield found
        return
    yield from walk.folders(root)
