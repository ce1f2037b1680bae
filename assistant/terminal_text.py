"""Untrusted text (titles, paths, passages, answers, error messages) made safe to print.

Such text is data: it must never be read as rich or Textual markup (`[/]` would crash the
command, `[bold]` would vanish) nor reach the terminal as control sequences (an ANSI escape in a
web page could recolour, clear or retitle the user's terminal). `plain` removes the control
sequences; the views pass the result as rich `Text` or escaped with `markup`.
"""

from __future__ import annotations

import re

from rich.markup import escape
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


def markup(text: object) -> str:
    """`text` for a rich markup string: control sequences removed, markup escaped."""
    return escape(plain(text))


def text(value: object, style: str = "") -> Text:
    """`value` as a rich Text (never parsed as markup), control sequences removed."""
    return Text(plain(value), style=style)
