"""The model picker: installed models and the R1 catalogue; picking one not installed pulls it."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, ProgressBar, Static

from assistant.session import ModelChoice, Session

from ..text import markup, plain


class ModelScreen(ModalScreen[str | None]):
    BINDINGS = [("escape", "dismiss(None)", "Close")]

    def __init__(self, session: Session, current: str | None) -> None:
        super().__init__()
        self.session = session
        self.current = current
        self.rows: list[ModelChoice] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                "[b]Models[/] (▶ in use, ✓ installed) — Enter picks; one not installed is pulled first"
            )
            yield Static("", id="model-problem")
            yield DataTable(id="models", cursor_type="row", zebra_stripes=True)
            yield ProgressBar(id="pull", show_eta=True)
            yield Static("", id="pull-status")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("model", "size", "params", "quant", "think", "memory", "fits")
        self.query_one("#pull", ProgressBar).display = False
        self.load()

    @work(thread=True, exclusive=True, group="models")
    def load(self) -> None:
        rows, problem = self.session.models()
        self.app.call_from_thread(self._fill, rows, problem)

    def _fill(self, rows: list[ModelChoice], problem: str | None) -> None:
        self.rows = rows
        self.query_one("#model-problem", Static).update(
            markup("[yellow]$problem[/]", problem=problem) if problem else ""
        )
        table = self.query_one(DataTable)
        table.clear()
        for r in rows:
            size = f"{r.size_bytes / 1e9:.1f} GB" if r.size_bytes else ""
            memory = f"{r.memory_gib:g} GiB" if r.memory_gib else ""
            fit = {True: "[green]yes[/]", False: "[red]no[/]", None: ""}[r.fits]
            # Cells given as str are read as markup by DataTable: names from the server go in
            # as rich Text.
            in_use = r.name == self.current
            name = Text(
                plain(("▶ " if in_use else "  ") + ("✓ " if r.installed else "  ") + r.name),
                style="bold" if in_use else "",
            )
            table.add_row(
                name,
                size,
                Text(plain(r.parameter_size)),
                Text(plain(r.quantization)),
                {True: "yes", False: "no", None: "?"}[r.thinking],
                memory,
                fit,
                key=r.name,
            )
        names = [r.name for r in rows]
        if self.current in names:  # the cursor starts on the model in use
            table.move_cursor(row=names.index(self.current))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        choice = next(r for r in self.rows if r.name == event.row_key.value)
        if choice.installed:
            self.dismiss(choice.name)
        else:
            self.pull(choice.name)

    @work(thread=True, exclusive=True, group="pull")
    def pull(self, tag: str) -> None:
        bar = self.query_one("#pull", ProgressBar)
        status = self.query_one("#pull-status", Static)
        self.app.call_from_thread(setattr, bar, "display", True)
        last = ""
        try:
            for p in self.session.pull(tag):
                last = p.status
                self.app.call_from_thread(
                    status.update, markup("pulling $tag: $status", tag=tag, status=p.status)
                )
                if p.total:
                    self.app.call_from_thread(bar.update, total=p.total, progress=p.completed)
        except Exception as exc:  # BackendError and connection failures: shown, never raised
            self.app.call_from_thread(status.update, markup("[red]$error[/]", error=self.app.describe(exc)))
            return
        if last == "success":
            self.app.call_from_thread(self.dismiss, tag)
        else:
            self.app.call_from_thread(
                status.update, markup("[red]pulling $tag did not finish ($last)[/]", tag=tag, last=last)
            )
