"""Knowledge bases: pick or create one, ingest a folder in the background, see stats and errors."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, ProgressBar, RichLog, Static

from assistant.chat.presentation import counted
from assistant.cli.views.terminal_text import styled
from assistant.session import Session

from ..text import markup, plain


class KnowledgeBaseScreen(ModalScreen[str | None]):
    BINDINGS = [("escape", "dismiss(None)", "Close")]

    def __init__(self, session: Session, current: str) -> None:
        super().__init__()
        self.session = session
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="kb-dialog"):
            yield Static("[b]Knowledge bases[/] — Enter uses the selected base")
            yield OptionList(id="kbs")
            yield Static("", id="kb-stats")
            with Horizontal(classes="row"):
                yield Input(placeholder="base name (new or existing)", id="kb-name", value=self.current)
                yield Input(placeholder="folder or file to ingest, e.g. ~/Documents/notes", id="kb-path")
                yield Button("Ingest", id="ingest", variant="primary")
            yield ProgressBar(id="ingest-progress", show_eta=True)
            yield RichLog(id="ingest-log", markup=True, wrap=True, max_lines=500)

    def on_mount(self) -> None:
        bar = self.query_one("#ingest-progress", ProgressBar)
        bar.display = False
        log = self.query_one("#ingest-log", RichLog)
        for kb in self.app.ingesting:  # started before this screen opened: it goes on
            bar.display = True
            log.write(styled("ingesting into ", (kb, "bold"), "…"))
        if self.app.last_ingest is not None:  # how the last one ended stays on screen
            log.write(self.app.last_ingest)
        self.refresh_list()

    @work(thread=True, exclusive=True, group="kb-list")
    def refresh_list(self) -> None:
        names = self.session.knowledge_bases()
        self.app.call_from_thread(self._fill, names)

    def _fill(self, names: list[str]) -> None:
        options = self.query_one("#kbs", OptionList)
        options.clear_options()
        options.add_options(names or ["(none yet: name one and ingest a folder)"])
        if self.current in names:
            options.highlighted = names.index(self.current)
            self.show_stats(self.current)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = str(event.option.prompt)
        if not name.startswith("("):
            self.query_one("#kb-name", Input).value = name
            self.show_stats(name)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        name = str(event.option.prompt)
        if not name.startswith("("):
            self.dismiss(name)

    @work(thread=True, exclusive=True, group="kb-stats")
    def show_stats(self, name: str) -> None:
        try:
            from assistant.cli.views.ingest import embedded_text

            s = self.session.kb_stats(name)
            text = markup(
                f"[b]$name[/]: {counted(s.documents, 'document')} · {counted(s.chunks, 'chunk')} · "
                "$embedder · "
                f"{s.bytes / 2**20:.1f} MiB · $location\nembedded: $embedded",
                name=s.name,
                embedder=s.embedder,
                location=s.location,
                embedded=embedded_text(s.embedded_chunks, s.chunks),
            )
        except Exception as exc:  # a broken or busy base: say so, never crash the screen
            text = markup("[red]$error[/]", error=self.app.describe(exc))
        self.app.call_from_thread(self._show_stats_text, text)

    def _show_stats_text(self, text) -> None:
        found = self.query("#kb-stats")
        if not found:  # the screen closed while the stats were read
            return
        found.first(Static).update(text)
        self._keep_log_end_in_view()

    def _keep_log_end_in_view(self) -> None:
        """The log shrinks when the stats above it grow (a small terminal): its last line, how
        the ingest ended, stays in view."""
        log = self.query_one("#ingest-log", RichLog)
        self.call_after_refresh(log.scroll_end, animate=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ingest":
            self.start_ingest()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the path field (or the name field) starts the ingest, as the button does."""
        event.stop()
        if self.query_one("#kb-path", Input).value.strip():
            self.start_ingest()
        else:
            self.query_one("#kb-path", Input).focus()

    def start_ingest(self) -> None:
        name = self.query_one("#kb-name", Input).value.strip() or "default"
        typed = self.query_one("#kb-path", Input).value.strip()
        path = Path(typed).expanduser()
        problem = None
        if not typed:
            problem = "type the folder or file to ingest first"
        elif not path.exists():
            problem = f"{path} does not exist: give a folder or file to ingest"
        elif name in self.app.ingesting:
            problem = f"an ingest into '{name}' is still running"
        if problem:
            self.query_one("#ingest-log", RichLog).write(styled((problem, "red")))
            self.notify(plain(problem), severity="error", markup=False)
            return
        bar = self.query_one("#ingest-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.app.start_ingest(path, name)  # runs on the app, so it goes on after this closes

    def on_ingest_progress(self, message: IngestProgress) -> None:
        """Progress from the app's ingest worker, while this screen is open."""
        from assistant.ingest_events import (
            EmbeddingProgress,
            FileProcessed,
            IngestFinished,
            IngestStarted,
            Searchable,
        )

        bar = self.query_one("#ingest-progress", ProgressBar)
        log = self.query_one("#ingest-log", RichLog)
        event = message.event
        bar.display = True
        self._keep_log_end_in_view()
        if isinstance(event, IngestFailed):
            bar.display = False  # it stops here; the error stays in the log
            log.write(event.line)
            self.refresh_list()
            self.show_stats(message.kb)
        elif isinstance(event, IngestStarted):
            bar.update(total=event.total_files, progress=0)
            log.write(
                styled(
                    "ingesting ",
                    event.root,
                    " into ",
                    (message.kb, "bold"),
                    f": {counted(event.total_files, 'file')}",
                )
            )
        elif isinstance(event, FileProcessed):
            bar.advance(1)
            if event.status == "failed":
                log.write(styled(("failed", "red"), " ", event.path, ": ", event.error or ""))
            elif event.status in ("added", "updated", "removed"):
                log.write(styled(f"{event.status} ", event.path))
        elif isinstance(event, Searchable):
            log.write(
                styled(
                    (message.kb, "bold"),
                    f" is searchable now (by words); embedding {counted(event.to_embed, 'chunk')}",
                )
            )
            bar.update(total=event.to_embed or 1, progress=0 if event.to_embed else 1)
        elif isinstance(event, EmbeddingProgress):
            bar.advance(event.count)
        elif isinstance(event, IngestFinished):
            s = event.summary
            text = (
                f"{s.files_added} added, {s.files_updated} updated, {s.files_removed} removed, "
                f"{len(s.files_failed)} failed, "
                + (f"{len(s.files_still_failing)} still failing, " if s.files_still_failing else "")
                + f"{counted(s.chunks_added, 'chunk')}, "
                f"{s.chunks_embedded:,} embedded"
            )
            log.write(styled(("done", "green"), ": ", text))
            bar.update(total=bar.total or 1, progress=bar.total or 1)
            self.refresh_list()
            self.show_stats(message.kb)


class IngestFailed:
    """The end of an ingest that stopped with an error: `line` says what happened, to show as is
    (rich Text, so that the log wraps it)."""

    def __init__(self, line: Text) -> None:
        self.line = line


class IngestProgress(Message):
    """One event of an ingest into base `kb` (assistant.ingest_events): IngestStarted,
    FileProcessed, ... and IngestFinished last."""

    def __init__(self, kb: str, event: object) -> None:
        super().__init__()
        self.kb = kb
        self.event = event
