"""A yes-or-no question the product must not answer for the user: for one, whether a folder is
the same one another machine ingested into a shared base under the same name (a sync would
remove, for every machine, the files that are not in it)."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ..text import markup


class ConfirmScreen(ModalScreen[bool]):
    """Shows `question` (text from a shared server: shown as it is, never as markup); `y` answers
    yes, any other key (Escape, n, Enter) no, so that a stray key never removes anything."""

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm-dialog"):
            question = markup("[b]$question?[/]", question=self.question.rstrip("?"))
            yield Static(question, id="confirm-question")
            yield Static(markup("[b]y[/] yes · any other key: no (nothing is changed)"))

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(event.key == "y")
