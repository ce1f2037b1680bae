"""Every key, on F1 or `?`."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

KEYS = """\
# Keys

| key | does |
|---|---|
| Enter | send the question |
| Shift+Enter, Ctrl+J | new line in the question |
| Up, Down (empty prompt) | earlier questions, kept across launches; past the oldest, the example questions |
| Escape | stop the answer (what arrived is kept) / close a dialog |
| Ctrl+W | web search on or off for the next question |
| Ctrl+T | fold or unfold all reasoning |
| Ctrl+N | new conversation |
| Ctrl+O | copy the last answer (through the terminal, OSC 52: also over ssh) |
| Ctrl+R | ask the last failed question again |
| F2 | pick a model (pulls it if it is not installed) |
| F3 | knowledge bases: pick, create, ingest a folder, stats |
| F4 | conversations: open, rename, delete, export to Markdown |
| F1 | this help |
| Ctrl+P | command palette: every action by name |
| Ctrl+Q | quit |

Select a source under an answer (Tab to the list, arrows, Enter) to read the passage and copy
(c) or open (o) its file or URL. Typing anywhere goes to the prompt.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        ("escape", "dismiss", "Close"),
        ("f1", "dismiss", "Close"),
        ("question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Markdown(KEYS)
