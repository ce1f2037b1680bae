"""One source's passage, with its path or URL to copy or open."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Markdown, Static

from assistant.retrieval.sources import Source

from ..text import markup, plain


class SourceScreen(ModalScreen[None]):
    BINDINGS = [("escape", "dismiss", "Close"), ("c", "copy", "Copy location"), ("o", "open", "Open")]

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        s = self.source
        with VerticalScroll(classes="dialog"):
            yield Static(
                markup(
                    "[b]\\[$label] $title[/]\n[dim]$location[/]",
                    label=s.label,
                    title=s.title,
                    location=s.location,
                ),
                classes="source-head",
            )
            if s.extra.get("suspicious"):
                yield Static(
                    "[red]⚠ instructions? This passage contains text that tries to give instructions; "
                    "it was given to the model as quoted data only.[/]"
                )
            if s.extra.get("ocr"):
                yield Static(
                    "[dim]Text recognised by OCR from the page's image; check it against the page.[/]"
                )
            yield Markdown(plain(s.text))
            with Horizontal(classes="buttons"):
                yield Button("Copy location (c)", id="copy")
                yield Button("Open (o)", id="open")
                yield Button("Close (Esc)", id="close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"copy": self.action_copy, "open": self.action_open, "close": self.dismiss}[event.button.id]()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.source.uri or self.source.location)
        self.notify("location copied")

    def action_open(self) -> None:
        target = self.source.uri or self.source.location
        self.app.open_url(target if "://" in target else f"file://{target}")
