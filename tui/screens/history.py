"""Conversations: open, rename, delete (after a yes), export to Markdown."""

from __future__ import annotations

import time

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from assistant.session import Session

from ..text import markup, plain


class HistoryScreen(ModalScreen[int | None]):
    BINDINGS = [
        ("escape", "dismiss(None)", "Close"),
        ("r", "rename", "Rename"),
        ("d", "delete", "Delete"),
        ("e", "export", "Export"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        #: The conversation waiting for a yes before it is deleted.
        self.deleting: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("[b]Conversations[/] — Enter opens · r rename · d delete · e export to Markdown")
            yield OptionList(id="conversations")
            yield Static("", id="history-question")
            yield Input(placeholder="new title, then Enter", id="rename")

    def on_mount(self) -> None:
        self.query_one("#rename", Input).display = False
        self.fill()

    def fill(self) -> None:
        options = self.query_one(OptionList)
        keep = self._selected()
        options.clear_options()
        conversations = self.session.list_conversations()
        for c in conversations:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated))
            prompt = markup("$title [dim]$when · $model[/]", title=c.title, when=when, model=c.model)
            options.add_option(Option(prompt, id=str(c.id)))
        if not conversations:
            options.add_option(Option("(no conversations yet)", id="", disabled=True))
        ids = [c.id for c in conversations]
        if ids:  # the keys act on a row from the start: the one kept, else the newest
            options.highlighted = ids.index(keep) if keep in ids else 0
        options.focus()

    def _selected(self) -> int | None:
        options = self.query_one(OptionList)
        if options.highlighted is None or options.highlighted >= options.option_count:
            return None
        option_id = options.get_option_at_index(options.highlighted).id
        return int(option_id) if option_id else None

    def _title(self, conversation_id: int) -> str:
        found = self.session.open_conversation(conversation_id)
        return found[0].title if found else str(conversation_id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.dismiss(int(event.option.id))

    def action_rename(self) -> None:
        if self._selected() is None:
            return
        field = self.query_one("#rename", Input)
        field.display = True
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        selected = self._selected()
        if selected is not None and event.value.strip():
            self.session.rename_conversation(selected, event.value)
        event.input.value = ""
        event.input.display = False
        self.fill()

    def action_delete(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        self.deleting = selected
        self.query_one("#history-question", Static).update(
            markup(
                "[b red]Delete “$title”?[/] y deletes it, any other key keeps it", title=self._title(selected)
            )
        )

    def on_key(self, event: events.Key) -> None:
        """The answer to "Delete …?": y deletes, any other key keeps the conversation."""
        if self.deleting is None:
            return
        event.stop()
        event.prevent_default()
        target, self.deleting = self.deleting, None
        self.query_one("#history-question", Static).update("")
        if event.key == "y":
            self.session.delete_conversation(target)
            self.notify("conversation deleted")
            self.fill()

    def action_export(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        try:
            path = self.session.export_conversation(selected)
        except OSError as exc:
            self.notify(plain(f"could not export: {exc}"), severity="error", markup=False)
            return
        self.notify(plain(f"exported to {path}"), markup=False)
