"""How `assistant ingest` renders sync events: progress bar or plain lines, then the summary."""

from __future__ import annotations

import io

from rich.console import Console

from assistant.ingest_view import PlainView, ProgressView, embedded_text, print_summary
from ingest import (
    ChunksEmbedded,
    EmbeddingStarted,
    FileDone,
    FileFailure,
    FileSkip,
    SyncFinished,
    SyncStarted,
    SyncSummary,
)

# The order a sync emits them: files committed (searchable), then their chunks embedded.
EVENTS = [
    SyncStarted("/notes", 4),
    FileDone("/notes/a.md", "added", 5, warnings=("2 invalid byte(s) for utf-8 replaced with U+FFFD",)),
    FileDone("/notes/b.md", "unchanged"),
    FileDone("/notes/c.png", "skipped"),
    FileDone("/notes/empty.txt", "failed", error="empty file (0 bytes), nothing to index"),
    FileDone("/notes/old.md", "removed"),
    EmbeddingStarted(5),
    ChunksEmbedded(3),
    ChunksEmbedded(2),
]


def console() -> Console:
    return Console(file=io.StringIO(), width=200, color_system=None)


def test_plain_view_prints_changes_failures_and_warnings_only() -> None:
    out = console()
    view = PlainView(out)
    for event in EVENTS:
        view(event)
    view(SyncFinished(SyncSummary()))
    assert out.file.getvalue().splitlines() == [
        "ingesting /notes: 4 files",
        "added /notes/a.md (5 chunks)",
        "warning /notes/a.md: 2 invalid byte(s) for utf-8 replaced with U+FFFD",
        "failed /notes/empty.txt: empty file (0 bytes), nothing to index",
        "removed /notes/old.md",
        "searchable (by words) now; embedding 5 chunks",
    ]


def test_progress_view_reports_failures_and_warnings_as_they_happen() -> None:
    out = console()
    view = ProgressView(out)
    for event in EVENTS:
        view(event)
    view(SyncFinished(SyncSummary()))
    text = out.file.getvalue()
    assert "failed /notes/empty.txt: empty file (0 bytes), nothing to index" in text
    assert "warning /notes/a.md: 2 invalid byte(s)" in text
    assert view.chunks == 5
    files, embedding = view.progress.tasks
    assert files.completed == 4  # removals are not files of this run
    assert (embedding.description, embedding.completed, embedding.total) == ("Embedding", 5, 5)
    assert "searchable now" in text


def test_views_show_no_embedding_phase_when_nothing_is_left_to_embed() -> None:
    unchanged = (SyncStarted("/notes", 1), FileDone("/notes/b.md", "unchanged"), EmbeddingStarted(0))
    view = ProgressView(console())
    for event in unchanged:
        view(event)
    view(SyncFinished(SyncSummary()))
    assert [t.description for t in view.progress.tasks] == ["Indexing"]
    out = console()
    plain_view = PlainView(out)
    for event in unchanged:
        plain_view(event)
    assert out.file.getvalue().splitlines() == ["ingesting /notes: 1 files"]


def test_embedded_text_says_how_much_is_embedded() -> None:
    assert embedded_text(577, 577) == "all 577 chunks"
    partial = embedded_text(100, 400)
    assert partial.startswith("100 of 400 chunks (25%)") and "next ingest" in partial


def test_summary_names_every_failed_file() -> None:
    out = console()
    summary = SyncSummary(
        files_seen=5,
        files_added=2,
        files_unchanged=1,
        files_skipped=1,
        files_failed=[FileFailure("/n/empty.txt", "empty file"), FileFailure("/n/x.pdf", "corrupt")],
        chunks_added=7,
        seconds=1.34,
    )
    print_summary(out, summary, "notes")
    lines = out.file.getvalue().splitlines()
    assert lines[0] == (
        "notes: 2 added, 0 updated, 1 unchanged, 0 removed, 2 failed, 1 skipped (not documents)"
        " · 7 chunks added, 0 removed · 1.3 s"
    )
    assert lines[1:] == [
        "2 file(s) could not be ingested:",
        "  /n/empty.txt: empty file",
        "  /n/x.pdf: corrupt",
    ]


def test_paths_and_reasons_are_printed_as_text_not_markup() -> None:
    events = [
        SyncStarted("/n", 3),
        FileDone("/n/[/]x[bold].md", "failed", error="bad [/] value [link=x]"),
        FileDone("/n/pipe[/].txt", "skipped", error="a named pipe (FIFO), not a regular file; skipped"),
        FileDone("/n/caf\\xe9[red].md", "added", 2, warnings=("odd [/] warning",)),
    ]
    for make in (ProgressView, PlainView):
        out = console()
        view = make(out)
        for event in events:
            view(event)
        view(SyncFinished(SyncSummary()))
        text = out.file.getvalue()
        assert "/n/[/]x[bold].md: bad [/] value [link=x]" in text
        assert "/n/pipe[/].txt: a named pipe (FIFO), not a regular file; skipped" in text
        assert "/n/caf\\xe9[red].md: odd [/] warning" in text


def test_summary_lists_skipped_non_regular_files() -> None:
    out = console()
    summary = SyncSummary(files_skipped=1, files_skipped_list=[FileSkip("/n/[/]fifo", "a socket")])
    print_summary(out, summary, "notes")
    assert out.file.getvalue().splitlines()[1:] == [
        "1 file(s) were skipped, each with its reason:",
        "  /n/[/]fifo: a socket",
    ]
