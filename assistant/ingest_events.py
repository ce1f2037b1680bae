"""The typed events of one ingest (`Session.ingest`): what the CLI and the TUI render of it.

They are Session's own vocabulary, translated from ingest's sync events in one place
(`from_sync_event`), so a front-end never imports `ingest` and a change to how ingest reports its
work is one change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ingest import SyncEvent, SyncSummary

FileStatus = Literal["added", "updated", "unchanged", "removed", "failed", "skipped"]


@dataclass(frozen=True)
class IngestStarted:
    """`total_files` files were found under `root` (the folder or file given)."""

    root: str
    total_files: int


@dataclass(frozen=True)
class FileProcessed:
    """One file done: `chunks` committed for an added or updated file; `error` says why a file
    failed or why a non-regular file was skipped; `warnings` about a file that was read."""

    path: str
    status: FileStatus
    chunks: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Searchable:
    """Every file is committed: the base answers searches by words now; `to_embed` chunks are
    being embedded (0: nothing left to embed)."""

    to_embed: int


@dataclass(frozen=True)
class EmbeddingProgress:
    """`count` more chunks have their vectors."""

    count: int


@dataclass(frozen=True)
class IngestFinished:
    """The last event, sent once the base is closed and the next search sees the new content:
    what the ingest did (the summary `Session.ingest` also returns)."""

    summary: SyncSummary


IngestEvent = IngestStarted | FileProcessed | Searchable | EmbeddingProgress | IngestFinished


def from_sync_event(event: SyncEvent) -> IngestEvent | None:
    """The front-ends' event for one of ingest's sync events; None for the sync's own end
    (`Session.ingest` sends `IngestFinished` when the base is closed)."""
    from ingest import ChunksEmbedded, EmbeddingStarted, FileDone, SyncFinished, SyncStarted

    if isinstance(event, SyncStarted):
        return IngestStarted(event.root, event.total_files)
    if isinstance(event, FileDone):
        return FileProcessed(event.path, event.status, event.chunks, event.error, event.warnings)
    if isinstance(event, EmbeddingStarted):
        return Searchable(event.total)
    if isinstance(event, ChunksEmbedded):
        return EmbeddingProgress(event.count)
    if isinstance(event, SyncFinished):
        return None
    raise TypeError(f"no ingest event for {type(event).__name__}")
