"""Renders an ingest's events (Session's, assistant.ingest_events) on a terminal: rich progress
bars, or plain lines when not a terminal; then the summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from vectorstore.plurals import counted

from ...ingest_events import (
    EmbeddingProgress,
    FileProcessed,
    IngestEvent,
    IngestFinished,
    IngestStarted,
    Searchable,
)
from .terminal_text import plain, styled

if TYPE_CHECKING:
    from ingest import SyncSummary


def embedded_text(embedded: int, chunks: int) -> str:
    """How much of a base is embedded, e.g. "412 of 577 chunks (71%); the rest found by words"."""
    if embedded >= chunks:
        return f"all {counted(chunks, 'chunk')}"
    share = f"{100 * embedded / chunks:.0f}%" if chunks else "0%"
    rest = (
        "the other is found by its words" if chunks - embedded == 1 else "the rest are found by their words"
    )
    return (
        f"{embedded:,} of {counted(chunks, 'chunk')} ({share}); {rest} until "
        "the next ingest into this base finishes embedding them"
    )


class ProgressView:
    """Two live bars: files read and indexed (searchable), then chunks embedded (rate, ETA)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]} · {task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = None
        self.embed_task = None
        self.chunks = 0

    def __call__(self, event: IngestEvent) -> None:
        if isinstance(event, IngestStarted):
            self.progress.start()
            self.task = self.progress.add_task(
                "Indexing", total=event.total_files, unit="files", rate="searchable when done"
            )
        elif isinstance(event, Searchable):
            if self.task is not None:
                self.progress.update(self.task, rate="searchable now")
            if event.to_embed:
                self.embed_task = self.progress.add_task(
                    "Embedding", total=event.to_embed, unit="chunks", rate="- chunks/s"
                )
        elif isinstance(event, EmbeddingProgress) and self.embed_task is not None:
            self.chunks += event.count
            task = self.progress.tasks[self.embed_task]
            elapsed = task.elapsed or 0
            rate = f"{self.chunks / elapsed:.1f} chunks/s" if elapsed > 0 else "- chunks/s"
            self.progress.update(self.embed_task, advance=event.count, rate=rate)
        elif isinstance(event, FileProcessed):
            if event.status != "removed":
                self.progress.advance(self.task)
            if event.status == "failed":
                self.progress.console.print(
                    styled(("failed", "red"), f" {event.path}: {event.error}"), highlight=False
                )
            elif event.status == "skipped" and event.error:
                self.progress.console.print(
                    styled(("skipped", "yellow"), f" {event.path}: {event.error}"), highlight=False
                )
            for warning in event.warnings:
                self.progress.console.print(
                    styled(("warning", "yellow"), f" {event.path}: {warning}"), highlight=False
                )
        elif isinstance(event, IngestFinished):
            self.progress.stop()


class PlainView:
    """One line per file that changed or failed, for logs and pipes."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, event: IngestEvent) -> None:
        if isinstance(event, IngestStarted):
            self.console.print(
                f"ingesting {plain(event.root)}: {counted(event.total_files, 'file')}",
                markup=False,
                highlight=False,
            )
        elif isinstance(event, Searchable) and event.to_embed:
            self.console.print(
                f"searchable (by words) now; embedding {counted(event.to_embed, 'chunk')}",
                markup=False,
                highlight=False,
            )
        elif isinstance(event, FileProcessed) and (
            event.status not in ("unchanged", "skipped") or event.error
        ):
            detail = (
                f": {event.error}"
                if event.error
                else f" ({counted(event.chunks, 'chunk')})"
                if event.chunks
                else ""
            )
            self.console.print(plain(f"{event.status} {event.path}{detail}"), markup=False, highlight=False)
            for warning in event.warnings:
                self.console.print(plain(f"warning {event.path}: {warning}"), markup=False, highlight=False)


def print_summary(console: Console, summary: SyncSummary, kb_name: str) -> None:
    s = summary
    console.print(
        styled(
            (kb_name, "bold"),
            f": {s.files_added} added, {s.files_updated} updated, "
            f"{s.files_unchanged} unchanged, {s.files_removed} removed, {len(s.files_failed)} failed"
            + (f", {s.files_skipped} skipped (not documents)" if s.files_skipped else "")
            + f" · {counted(s.chunks_added, 'chunk')} added, {s.chunks_removed:,} removed"
            + f" · {s.seconds:.1f} s",
        ),
        highlight=False,
    )
    if s.files_failed:
        console.print(f"[red]{counted(len(s.files_failed), 'file')} could not be ingested:[/]")
        for failure in s.files_failed:
            console.print(plain(f"  {failure.path}: {failure.error}"), markup=False, highlight=False)
    if s.files_skipped_list:
        count = len(s.files_skipped_list)
        were = "was" if count == 1 else "were"
        console.print(f"[yellow]{counted(count, 'file')} {were} skipped, each with its reason:[/]")
        for skip in s.files_skipped_list:
            console.print(plain(f"  {skip.path}: {skip.reason}"), markup=False, highlight=False)
