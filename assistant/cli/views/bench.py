"""`assistant bench`: a table that fills as results arrive with one progress bar per model, and
each model's quality and speed at the end."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .terminal_text import plain, styled
from .terminal_text import text as safe_text

if TYPE_CHECKING:
    from ...bench.runner import Record

COLUMNS = ("model", "task", "run", "result", "score", "tok/s", "first token", "detail")


class BenchView:
    """Live on a terminal; elsewhere the table is printed once, by `finish`. Use as a context
    manager around the run and pass it as the runner's `on_record`."""

    def __init__(self, err: Console, title: str, models: list[str], runs_per_model: int) -> None:
        self.err = err
        self.table = Table(title=safe_text(title))
        for col in COLUMNS:
            self.table.add_column(col, overflow="fold")
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
        )
        self.said: set[str] = set()
        self.bars = {name: self.progress.add_task(name, total=runs_per_model) for name in models}
        self.live = Live(
            Group(self.table, self.progress),
            console=err,
            refresh_per_second=4,
            transient=False,
            auto_refresh=err.is_terminal,
        )

    def __enter__(self) -> BenchView:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.live.__exit__(*exc)

    def __call__(self, record: Record, resumed: bool) -> None:
        self.progress.advance(self.bars[record.model])
        for notice in record.notices:  # a part that failed: said once, above the table
            if notice not in self.said:
                self.said.add(notice)
                self.live.console.print(styled(("notice:", "yellow"), " ", notice), highlight=False)
        self.table.add_row(
            safe_text(record.model),
            safe_text(record.task),
            str(record.repeat) + (" (kept)" if resumed else ""),
            "[green]pass[/]" if record.passed else "[red]fail[/]",
            f"{record.score:.2f}",
            f"{record.tokens_per_second:.1f}" if record.tokens_per_second else "–",
            f"{record.time_to_first_token:.1f} s" if record.time_to_first_token is not None else "–",
            safe_text((record.error or record.detail)[:80]),
        )

    def finish(self) -> None:
        if not self.err.is_terminal:
            self.err.print(self.table)


def print_interrupted(err: Console, folder: Path) -> None:
    err.print(
        plain(f"interrupted: finished results are kept in {folder}; rerun with --out {folder} to resume"),
        markup=False,
    )


def print_summary(out: Console, summary: dict[str, Any], folder: Path) -> None:
    """One line per model (quality, pass rate, speed), then where the report is."""
    for model, s in summary.items():
        speed = f"{s['tokens_per_second']:.1f} tok/s" if s["tokens_per_second"] else "speed unknown"
        out.print(
            plain(f"{model}: quality {s['quality']:.2f}, {s['pass_rate']:.0%} passed, {speed}"),
            markup=False,
            highlight=False,
        )
    out.print(plain(f"report: {folder / 'summary.md'} · chart: {folder / 'chart.svg'}"), markup=False)


def print_text(out: Console, text: str) -> None:
    """A report or a comparison, as the text it is."""
    out.print(plain(text), markup=False, highlight=False)
