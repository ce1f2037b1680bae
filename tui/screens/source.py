"""One source's passage, with its path or URL to copy or open."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from urllib.parse import urlsplit

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Markdown, Static

from assistant.retrieval.sources import Source

from ..clipboard import copy_message
from ..text import markup, plain


def web_url(uri: str) -> str | None:
    """`uri` if it is an http(s) URL with a host, else None: nothing else is handed to an opener."""
    try:
        parts = urlsplit(uri.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts.geturl()


def file_url(path: Path | None, page: int | None = None) -> str | None:
    """A `file://` URL for an existing absolute local file (`Path.as_uri`, so no name can pass for
    an option or break out of the URL); a PDF opens at `page` where the viewer supports it."""
    if path is None or not path.is_absolute() or not path.is_file() or str(path).startswith("-"):
        return None
    url = path.as_uri()
    if page and path.suffix.lower() == ".pdf":
        url += f"#page={int(page)}"
    return url


def _opener() -> webbrowser.BaseBrowser | None:
    """The program that opens URLs here, if it runs beside this terminal (a browser that would
    take over the terminal, such as lynx, does not count)."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return None
    if getattr(browser, "background", True) is False:
        return None
    in_terminal = isinstance(browser, webbrowser.GenericBrowser)
    if in_terminal and not isinstance(browser, webbrowser.BackgroundBrowser):
        return None
    return browser


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
        self.notify(plain(copy_message("the location", getattr(self.app, "clipboard_note", None))))

    def target(self) -> str | None:
        """What Open hands to the opener: a web source's http(s) URL, or a file URL for the file
        on this machine (a shared base's file only where its folder is ingested here too)."""
        s = self.source
        if s.kind == "web":
            return web_url(s.uri or s.location)
        return file_url(self.app.session.local_copy(s.uri), s.page)

    def action_open(self) -> None:
        url = self.target()
        if url is None:
            where = self.source.uri or self.source.location
            self.notify(
                plain(f"{where} cannot be opened from here: no such file on this machine (c copies it)"),
                severity="warning",
                markup=False,
            )
            return
        self.open_with_opener(url)

    @work(thread=True, exclusive=True, group="open")
    def open_with_opener(self, url: str) -> None:
        browser = _opener()
        opened = False
        if browser is not None:
            try:
                opened = bool(browser.open(url))
            except (webbrowser.Error, OSError):
                opened = False
        if opened:
            self.app.call_from_thread(self.notify, plain(f"opening {url}"), markup=False)
        else:
            self.app.call_from_thread(
                self.notify,
                plain(
                    f"nothing on this machine can open {url}: no web browser or file opener was found "
                    "(install one, or set BROWSER); c copies the location"
                ),
                severity="warning",
                markup=False,
            )
