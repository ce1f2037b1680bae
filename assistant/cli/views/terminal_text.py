"""Untrusted text (titles, paths, passages, answers, error messages) made safe to print.

Such text is data: it must never be read as rich or Textual markup (`[/]` would crash the
command, `[bold]` would vanish) nor reach the terminal as control sequences (an ANSI escape in a
web page could recolour, clear or retitle the user's terminal). `plain` removes the control
sequences; the views pass the result as rich `Text` (`text`, `styled`), never as markup.
"""

from __future__ import annotations

import re

from rich.text import Text

# ANSI/VT sequences (CSI, OSC, other ESC sequences), then any other C0/C1 control character
# except newline and tab.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def plain(text: object) -> str:
    """`text` without terminal control sequences or control characters (newlines and tabs kept;
    a carriage return becomes a newline, so it cannot overwrite what was printed)."""
    return _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))


def text(value: object, style: str = "") -> Text:
    """`value` as a rich Text (never parsed as markup), control sequences removed."""
    return Text(plain(value), style=style)


def styled(*parts: object | tuple[object, str]) -> Text:
    """One line from pieces, each a value (plain) or a (value, style) pair: untrusted pieces go
    in as they are, since nothing here is parsed as markup."""
    return Text.assemble(*((plain(p[0]), p[1]) if isinstance(p, tuple) else plain(p) for p in parts))


# The start of an escape sequence (ESC or the C1 CSI) and a complete one, for streamed text.
_SEQUENCE_START = re.compile("[\x1b\x9b]")
_COMPLETE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[P^_X][^\x1b]*\x1b\\|[ -/]*[0-OQ-WYZ\\`-~])"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)


class StreamCleaner:
    """`plain` for text that arrives in pieces: an escape sequence split between two pieces
    ("\x1b" then "[31m") is held back until it is complete, so no half of it is shown."""

    def __init__(self, longest: int = 64) -> None:
        self.pending = ""
        self.longest = longest

    def feed(self, piece: str) -> str:
        data = self.pending + piece
        self.pending = ""
        starts = [m.start() for m in _SEQUENCE_START.finditer(data)]
        if starts:
            last = starts[-1]
            if len(data) - last < self.longest and not _COMPLETE.match(data, last):
                data, self.pending = data[:last], data[last:]
        return plain(data)

    def finish(self) -> str:
        rest, self.pending = self.pending, ""
        return plain(rest)
