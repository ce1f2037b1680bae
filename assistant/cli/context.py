"""What every command shares: the settings read once at start-up, the Session built from them
on first use, the two consoles, the exit statuses and `fail`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

from ..settings import Settings
from .views.terminal_text import styled

if TYPE_CHECKING:
    from ..session import Session

EXIT_ERROR = 1
EXIT_SOME_FILES_FAILED = 3

#: Results go to stdout; progress, notices and errors to stderr.
out = Console()
err = Console(stderr=True, soft_wrap=True)


class _State:
    settings: Settings
    #: What plain `assistant` does on a terminal (the chat app, given by tui/cli.py).
    on_no_command: Callable[[], None] | None = None
    _session: Session | None = None

    @property
    def session(self) -> Session:
        """The one way into the core: every command goes through this Session."""
        if self._session is None:
            from ..session import Session  # loaded on first use: `assistant --help` stays quick

            self._session = Session(self.settings)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


state = _State()


def fail(message: str) -> NoReturn:
    """Stop the command with one line on stderr and exit status 1."""
    err.print(styled(("error:", "red"), " ", message), highlight=False)
    raise typer.Exit(EXIT_ERROR)
