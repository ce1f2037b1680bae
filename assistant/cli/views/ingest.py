"""Renders an ingest's events (Session's, assistant.ingest_events) on a terminal: rich progress
bars, or plain lines when not a terminal; then the summary."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from ...chat.presentation import counted
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
    from vectorstore import KBStats


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


class SteadyTimeRemaining(ProgressColumn):
    """Time left at the average rate since the bar first moved, counting down between updates.
    Rich's own column estimates from the last 30 s of updates and shows -:--:-- whenever none came
    in that window, so a slow batch made the ETA vanish and come back; once known, this one stays
    a time, and the rate is measured up to the last update (not to now, which would make the
    estimate grow while the bar waits for the next pass)."""

    max_refresh = 0.5

    def render(self, task: Task) -> Text:
        if task.finished:
            return Text("0:00:00", style="progress.remaining")
        first, last = task.fields.get("first"), task.fields.get("last")
        if first is None or last is None or not task.total or task.start_time is None:
            return Text("estimating", style="dim")
        (at, done), now = first, task.get_time()
        if task.completed > done and last > at:
            rate = (task.completed - done) / (last - at)
        else:  # one update so far: its count over the time from the bar's start to it
            rate = task.completed / max(last - task.start_time, 1e-6)
        left = max(0.0, task.total - task.completed) / max(rate, 1e-9) - max(0.0, now - last)
        return Text(str(timedelta(seconds=round(max(0.0, left)))), style="progress.remaining")


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
            SteadyTimeRemaining(),
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
            self._advance(self.embed_task, event.count, rate=rate)
        elif isinstance(event, FileProcessed):
            if event.status != "removed":
                self._advance(self.task, 1)
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

    def _advance(self, task_id, count: int, **fields) -> None:
        """Advance a bar, noting when it first and last moved (what SteadyTimeRemaining reads)."""
        if task_id is None:
            return
        task, now = self.progress.tasks[task_id], self.progress.get_time()
        if "first" not in task.fields:
            fields["first"] = (now, task.completed + count)
        self.progress.update(task_id, advance=count, last=now, **fields)

    def stop(self) -> None:
        """Stop the bars where they are (an interrupted ingest)."""
        self.progress.stop()


class PlainView:
    """One line per file that changed or failed, for logs and pipes."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def stop(self) -> None:
        pass  # nothing live to stop

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
            + (f", {len(s.files_still_failing)} still failing" if s.files_still_failing else "")
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
    if s.files_still_failing:
        count = len(s.files_still_failing)
        console.print(
            f"[red]{counted(count, 'file')} still {'fails' if count == 1 else 'fail'}, unchanged since "
            "the last ingest (not read again; change the file, a limit or the readers to retry):[/]"
        )
        for failure in s.files_still_failing:
            console.print(plain(f"  {failure.path}: {failure.error}"), markup=False, highlight=False)
    if s.files_skipped_list:
        count = len(s.files_skipped_list)
        were = "was" if count == 1 else "were"
        console.print(f"[yellow]{counted(count, 'file')} {were} skipped, each with its reason:[/]")
        for skip in s.files_skipped_list:
            console.print(plain(f"  {skip.path}: {skip.reason}"), markup=False, highlight=False)


def print_interrupted(console: Console, kb_name: str, saved: KBStats | None) -> None:
    """One line after Ctrl+C: what the base holds now, and that the next ingest goes on."""
    if saved is None or not saved.documents:
        line = (
            f"interrupted before anything was saved into '{kb_name}'; "
            "run the same `assistant ingest` again to start over"
        )
    else:
        embedded = (
            "all embedded" if saved.embedded_chunks >= saved.chunks else f"{saved.embedded_chunks:,} embedded"
        )
        line = (
            f"interrupted: '{kb_name}' keeps what was read ({counted(saved.documents, 'document')}, "
            f"{counted(saved.chunks, 'chunk')}, {embedded}) and answers searches by words now; "
            f"the next `assistant ingest` into '{kb_name}' carries on where this one stopped"
        )
    console.print(styled((line, "yellow")), highlight=False)
