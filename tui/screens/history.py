"""Conversations: open, rename, delete, export to Markdown."""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ..store import ConversationStore
from ..text import markup


class HistoryScreen(ModalScreen[int | None]):
    BINDINGS = [
        ("escape", "dismiss(None)", "Close"),
        ("r", "rename", "Rename"),
        ("d", "delete", "Delete"),
        ("e", "export", "Export"),
    ]

    def __init__(self, store: ConversationStore, export_dir: Path) -> None:
        super().__init__()
        self.store = store
        self.export_dir = export_dir

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("[b]Conversations[/] — Enter opens · r rename · d delete · e export to Markdown")
            yield OptionList(id="conversations")
            yield Input(placeholder="new title, then Enter", id="rename")

    def on_mount(self) -> None:
        self.query_one("#rename", Input).display = False
        self.fill()

    def fill(self) -> None:
        options = self.query_one(OptionList)
        keep = self._selected()
        options.clear_options()
        conversations = self.store.conversations()
        for c in conversations:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated))
            prompt = markup("$title [dim]$when · $model[/]", title=c.title, when=when, model=c.model)
            options.add_option(Option(prompt, id=str(c.id)))
        ids = [c.id for c in conversations]
        if keep in ids:
            options.highlighted = ids.index(keep)
        options.focus()

    def _selected(self) -> int | None:
        options = self.query_one(OptionList)
        if options.highlighted is None or options.highlighted >= options.option_count:
            return None
        return int(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
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
            self.store.rename(selected, event.value)
        event.input.value = ""
        event.input.display = False
        self.fill()

    def action_delete(self) -> None:
        selected = self._selected()
        if selected is not None:
            self.store.delete(selected)
            self.notify("conversation deleted")
            self.fill()

    def action_export(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        self.export_dir.mkdir(parents=True, exist_ok=True)
        path = self.export_dir / f"conversation-{selected}.md"
        path.write_text(self.store.export_markdown(selected), encoding="utf-8")
        self.notify(f"exported to {path}")
