"""The error contract, for front-ends.

`AssistantError` is the root of every error a user can act on (knowledge base, embedder, model
server, web, settings, bench suites subclass it); its message says what to do. A front-end catches
it alone and shows the message. Anything else is a bug: `log_unexpected` writes its traceback to a
log file under the home folder and returns a one-line message naming that file.

The log is private (0600, opened without following links). When the home cannot hold it, it goes
to the user's own log folder (platformdirs' user_log_dir), and only then to a new file of a random
name in the temporary folder (mkstemp): never to a fixed name in a folder every user can write,
where another user could have put a link or read the traceback.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

from platformdirs import user_log_dir

from vectorstore.errors import AssistantError

__all__ = ["AssistantError", "log_unexpected"]


def log_unexpected(exc: BaseException, home: Path | None) -> str:
    """Append `exc`'s traceback to `home/logs/errors.log`; return the line to show the user."""
    entry = f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n" + "".join(traceback.format_exception(exc))
    for log, fd in _open_logs(home):
        try:
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(entry)
        except OSError:
            continue
        return f"unexpected error: {type(exc).__name__}: {exc}. The details are in {log}; please report them."
    return f"unexpected error: {type(exc).__name__}: {exc} (and no log file could be written)"


def _open_logs(home: Path | None) -> Iterator[tuple[Path, int]]:
    """Private log files to try, in order, each opened for appending."""
    folders = [home / "logs"] if home is not None else []
    folders.append(Path(user_log_dir("r1-assistant", appauthor=False)))
    for folder in folders:
        log = folder / "errors.log"
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(
                log,
                os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                0o600,
            )
        except OSError:
            continue
        try:
            os.fchmod(fd, 0o600)  # a log an older version left readable
        except OSError:
            pass
        yield log, fd
    try:
        fd, name = tempfile.mkstemp(prefix="r1-assistant-errors-", suffix=".log")
    except OSError:
        return
    yield Path(name), fd
