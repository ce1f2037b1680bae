"""The home folder is private: it holds the user's documents (as indexed chunks), conversations,
logs and exports, so only its owner may read it, as ssh keeps ~/.ssh and a shell its history.

`make_private` runs once at the edge (the `assistant` command, which the chat app runs under):
it sets the process umask to 0o077, so every folder created from then on is 0700 and every file
0600 (SQLite's databases and their -wal and -shm files, Chroma's files, logs, exports, bench
reports), and it tightens a home made before (by an older version, or by hand): group and other
permissions are removed from the home and everything in it. Links are never followed while
tightening, so nothing outside the home is changed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: Group and others get nothing: folders 0700, files 0600.
PRIVATE_UMASK = 0o077
_LOOSE = 0o077


def make_private(home: Path) -> int:
    """Make what the process creates from now on private, and tighten `home` if it exists.

    Returns the previous umask, for a caller that runs more than one command in a process.
    """
    previous = os.umask(PRIVATE_UMASK)
    tighten(home)
    return previous


def tighten(home: Path) -> int:
    """Remove group and other permissions from `home` and everything under it; returns how
    many files and folders were changed.

    Skipped when `home` is the user's own home folder (or a folder above it): the assistant may
    not decide the permissions of everything there. Links inside are left alone (a link's own
    mode means nothing, and its target may lie outside); files owned by someone else are too.
    """
    try:
        home = home.expanduser().resolve()
        if not home.is_dir():
            return 0
    except OSError:
        return 0
    user_home = Path.home().resolve()
    if home == user_home or home in user_home.parents or not hasattr(os, "fwalk"):
        return 0
    changed = _fix(home, None)
    for _, folders, files, folder_fd in os.fwalk(home, follow_symlinks=False):
        for name in (*folders, *files):
            changed += _fix(name, folder_fd)
    return changed


def _fix(name: str | Path, folder_fd: int | None) -> int:
    """Tighten one file or folder (never a link), opened without following links."""
    try:
        info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        if not info.st_mode & _LOOSE or info.st_uid != os.geteuid():
            return 0
        if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
            return 0  # links, sockets, pipes: nothing to read through them here
        flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(name, flags, dir_fd=folder_fd)
    except OSError:
        return 0  # gone meanwhile, or unreadable to its owner: left as it is
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            return 0  # swapped between the check and the open
        os.fchmod(fd, stat.S_IMODE(opened.st_mode) & ~_LOOSE)
        return 1
    except OSError:
        return 0
    finally:
        os.close(fd)
