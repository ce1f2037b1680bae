"""A program driven on a real pseudo-terminal, its screen read back as a person sees it.

`pexpect` runs the program on a pty of a given size and `pyte` (a VT100/xterm emulator) keeps the
screen it draws, so a test presses keys and waits for text to appear, exactly as a user of the
installed command would. Every wait is bounded and a timeout shows the screen it gave up on.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pexpect
import pyte

#: What the keys send on an xterm-like terminal (Textual reads these).
KEYS = {
    "enter": "\r",
    "tab": "\t",
    "escape": "\x1b",
    "backspace": "\x7f",
    "up": "\x1b[A",
    "down": "\x1b[B",
    "right": "\x1b[C",
    "left": "\x1b[D",
    "f1": "\x1bOP",
    "f2": "\x1bOQ",
    "f3": "\x1bOR",
    "f4": "\x1bOS",
    **{f"ctrl+{c}": chr(ord(c) - ord("a") + 1) for c in "abcdefghijklnopqrstuvwxyz"},
}


class ScreenTimeout(AssertionError):
    pass


class Terminal:
    """`argv` running on a `cols` x `rows` pseudo-terminal; stop it with `close()`."""

    def __init__(
        self, argv: Sequence[str], *, env: Mapping[str, str], cols: int, rows: int, cwd: Path | None = None
    ) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        # poll, not select: a test process may hold descriptors above select's limit of 1024.
        self.child = pexpect.spawn(
            argv[0],
            list(argv[1:]),
            env=dict(env),
            dimensions=(rows, cols),
            cwd=cwd,
            echo=False,
            use_poll=True,
        )
        self.exit_status: int | None = None

    # --- reading ----------------------------------------------------------------------------
    def pump(self, seconds: float = 0.1) -> bool:
        """Feed what the program wrote within `seconds` to the screen; False once it has exited."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            try:
                data = self.child.read_nonblocking(1 << 16, timeout=max(0.0, left))
            except pexpect.TIMEOUT:
                return True
            except pexpect.EOF:
                return False
            self.stream.feed(data)
            if time.monotonic() >= deadline:
                return True

    @property
    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def lines_with(self, needle: str) -> list[str]:
        return [line for line in self.text.splitlines() if needle in line]

    def wait_for(
        self,
        what: str | Callable[[str], bool],
        timeout: float = 30,
        *,
        fail_on: Sequence[str] = (),
    ) -> str:
        """Wait until the screen shows `what` (a text, or a test of the screen's text); fail at once
        if it shows any of `fail_on`. Returns the screen's text."""
        test = (lambda screen: what in screen) if isinstance(what, str) else what
        deadline = time.monotonic() + timeout
        while True:
            alive = self.pump(0.1)
            screen = self.text
            for bad in fail_on:
                if bad in screen:
                    raise ScreenTimeout(f"the screen shows {bad!r}:\n{screen}")
            if test(screen):
                return screen
            if not alive:
                raise ScreenTimeout(f"the program exited while waiting for {what!r}:\n{screen}")
            if time.monotonic() > deadline:
                raise ScreenTimeout(f"not on the screen after {timeout:g} s: {what!r}\n{screen}")

    def settle(self, seconds: float = 0.3) -> str:
        self.pump(seconds)
        return self.text

    # --- writing ----------------------------------------------------------------------------
    def press(self, *keys: str, pause: float = 0.15) -> None:
        """Press keys by name (`KEYS`); each is followed by a pause, so that a lone Escape is read
        as the Escape key and not as the start of a sequence."""
        for key in keys:
            self.child.send(KEYS[key])
            self.pump(pause)

    def type(self, text: str) -> None:
        self.child.send(text)
        self.pump(0.1)

    # --- ending -----------------------------------------------------------------------------
    def wait_exit(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.pump(0.1):
            if time.monotonic() > deadline:
                raise ScreenTimeout(f"the program did not exit within {timeout:g} s:\n{self.text}")
        self.child.wait()
        self.exit_status = self.child.exitstatus
        return self.child.exitstatus if self.child.exitstatus is not None else -(self.child.signalstatus or 0)

    def close(self) -> None:
        """Stop the program and everything it started in its process group (reader processes)."""
        try:  # also after a clean exit: nothing it started may outlive the test
            os.killpg(self.child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.child.close(force=True)
