"""Copying through the terminal: Textual's `App.copy_to_clipboard` sends OSC 52, which works over
ssh and inside tmux, but a terminal may ignore it and never says so. What is known not to take it
(read once from the environment at start-up) is said with the copy, with what to do."""

from __future__ import annotations

from collections.abc import Mapping


def clipboard_note(environ: Mapping[str, str]) -> str | None:
    """Why a copy through this terminal may not reach the clipboard, or None where it should."""
    term = environ.get("TERM", "")
    program = environ.get("TERM_PROGRAM", "")
    if term in ("", "dumb", "linux"):
        return "this terminal cannot copy (no OSC 52 support); select the text with the mouse instead"
    if program == "Apple_Terminal":
        return "macOS Terminal ignores copies from programs (OSC 52); use iTerm2, or select with the mouse"
    if environ.get("TMUX"):
        return "inside tmux the copy reaches the clipboard only with `set -g set-clipboard on` in tmux.conf"
    if term.startswith("screen") or environ.get("STY"):
        return "GNU screen does not pass copies (OSC 52) to the terminal; select the text with the mouse"
    return None


def copy_message(what: str, note: str | None) -> str:
    line = f"copied {what} to the clipboard (through the terminal, OSC 52)"
    return f"{line}; but {note}" if note else line
