"""The `assistant` command: `commands/` take every piece of data from `Session` and hand it to
`views/`, which only print it. `app.build_app` puts the commands together (tui/cli.py adds
`chat`); `run` turns any error that reaches it into one line."""

from .app import app, build_app, main, run
from .context import EXIT_ERROR, EXIT_SOME_FILES_FAILED, state

__all__ = ["EXIT_ERROR", "EXIT_SOME_FILES_FAILED", "app", "build_app", "main", "run", "state"]
