"""The error contract, for front-ends.

`AssistantError` is the root of every error a user can act on (knowledge base, embedder, model
server, web, settings, bench suites subclass it); its message says what to do. A front-end catches
it alone and shows the message. Anything else is a bug: `log_unexpected` writes its traceback to a
log file under the home folder and returns a one-line message naming that file.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from pathlib import Path

from vectorstore.errors import AssistantError

__all__ = ["AssistantError", "log_unexpected"]


def log_unexpected(exc: BaseException, home: Path | None) -> str:
    """Append `exc`'s traceback to `home/logs/errors.log`; return the line to show the user."""
    log = _log_path(home)
    try:
        with log.open("a", encoding="utf-8") as f:
            f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            f.write("".join(traceback.format_exception(exc)))
    except OSError:
        return f"unexpected error: {type(exc).__name__}: {exc} (and the log could not be written to {log})"
    return f"unexpected error: {type(exc).__name__}: {exc}. The details are in {log}; please report them."


def _log_path(home: Path | None) -> Path:
    for folder in ([home / "logs"] if home is not None else []) + [Path(tempfile.gettempdir())]:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return folder / "errors.log" if folder.name == "logs" else folder / "r1-assistant-errors.log"
        except OSError:
            continue
    return Path(tempfile.gettempdir()) / "r1-assistant-errors.log"
