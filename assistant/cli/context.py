"""What every command shares: the settings read once at start-up, the Session built from them
on first use, the two consoles, the exit statuses, `fail`, and asking the user (`can_ask`, `ask`)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

from ..settings import Settings
from .views.terminal_text import plain, styled

if TYPE_CHECKING:
    from ..session import Session

EXIT_ERROR = 1
#: Bad usage: an unknown command or option, a missing or extra argument, a value out of range,
#: options that exclude each other (click's own status for usage errors).
EXIT_USAGE = 2
EXIT_SOME_FILES_FAILED = 3
#: Stopped by Ctrl+C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130

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


class _UsageProblem(typer.BadParameter):
    """A usage error whose message is shown as it is (not as "Invalid value: ...")."""

    def format_message(self) -> str:
        return self.message


def usage(ctx: typer.Context, message: str) -> NoReturn:
    """Stop the command for bad usage (exit status 2), shown as typer shows its own usage errors:
    the usage line, where to find help (`-h`), and `message`."""
    raise _UsageProblem(plain(message), ctx=ctx)


@contextmanager
def interrupt_once() -> Iterator[None]:
    """Within this block the first Ctrl+C raises KeyboardInterrupt, so that the command can stop
    cleanly and say what it saved; a second one, while it does, ends the process at once (exit
    status 130; what was committed stays committed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def second(signum, frame) -> None:
        os._exit(EXIT_INTERRUPTED)

    def first(signum, frame) -> None:
        signal.signal(signal.SIGINT, second)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def can_ask() -> bool:
    """Whether someone can answer a question: stdin is a terminal."""
    return sys.stdin.isatty()


def ask(question: str) -> bool:
    """A yes/no question at the terminal (no by default)."""
    return typer.confirm(plain(question), default=False)
