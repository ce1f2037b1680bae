"""`assistant models`: the installed models and the R1 catalogue as two tables or one JSON
object; `assistant models pull`: a download bar (plain status lines when not a terminal)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from .sizes import human_bytes
from .terminal_text import plain, styled
from .terminal_text import text as safe_text

if TYPE_CHECKING:
    from ...chat.backends import PullProgress
    from ...session import ModelListing


def listing_json(listing: ModelListing) -> dict[str, Any]:
    return {
        "installed": [dataclasses.asdict(m) for m in listing.installed],
        "catalog": [dataclasses.asdict(c) for c in listing.catalog],
        "memory_gib": round(listing.memory_gib, 1),
        "error": listing.problem,
    }


def print_listing(out: Console, err: Console, listing: ModelListing) -> None:
    """The installed models (or why they are unknown, or how to get one), then the catalogue."""
    if listing.problem:
        err.print(styled(("error:", "red"), " ", listing.problem), highlight=False)
    elif not listing.installed:
        err.print(
            plain(
                f"no models installed in {listing.server}; pull one: `assistant models pull deepseek-r1:7b`"
            ),
            markup=False,
            highlight=False,
        )
    else:
        table = Table(title=safe_text(f"Installed in {listing.server}"))
        for col in ("model", "size", "parameters", "quantisation", "thinking", "context"):
            table.add_column(col, no_wrap=col == "model")
        for m in listing.installed:
            table.add_row(
                safe_text(m.name),
                human_bytes(m.size_bytes),
                safe_text(m.parameter_size),
                safe_text(m.quantization),
                {True: "yes", False: "no", None: "?"}[m.thinking],
                str(m.context_length or "?"),
            )
        out.print(table)
    cat = Table(title=f"DeepSeek-R1 catalogue (this machine: {listing.memory_gib:.0f} GiB)")
    for col in ("tag", "base model", "download", "memory needed", "fits", "installed"):
        cat.add_column(col, no_wrap=col == "tag")
    for c in listing.catalog:
        cat.add_row(
            c.tag,
            c.base,
            f"{c.download_gb:g} GB",
            f"{c.memory_gib:g} GiB",
            "[green]yes[/]" if c.fits else "[red]no[/]",
            "?" if listing.problem else "yes" if c.installed else "",
        )
    out.print(cat)


class PullView:
    """A download bar for one model on a terminal; elsewhere one line per new status. `last` is
    the last status the server sent ("success" when the pull finished)."""

    def __init__(self, err: Console, tag: str) -> None:
        self.err, self.last = err, ""
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=err,
            disable=not err.is_terminal,
        )
        self.task = self.progress.add_task(f"pulling {tag}", total=None)

    def __enter__(self) -> PullView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, p: PullProgress) -> None:
        if p.total:
            self.progress.update(self.task, total=p.total, completed=p.completed, description=p.status[:40])
        else:
            self.progress.update(self.task, description=p.status[:40])
        if not self.err.is_terminal and p.status != self.last:
            self.err.print(plain(p.status), markup=False, highlight=False)
        self.last = p.status
