"""How `assistant ingest` renders Session's ingest events: progress bar or plain lines, then the
summary; and how ingest's own sync events become Session's."""

from __future__ import annotations

import io
import typing

from rich.console import Console

import ingest
from assistant.cli.views.ingest import PlainView, ProgressView, embedded_text, print_summary
from assistant.ingest_events import (
    EmbeddingProgress,
    FileProcessed,
    IngestFinished,
    IngestStarted,
    Searchable,
    from_sync_event,
)
from ingest import FileFailure, FileSkip, SyncSummary

# The order a sync emits them: files committed (searchable), then their chunks embedded.
EVENTS = [
    IngestStarted("/notes", 4),
    FileProcessed("/notes/a.md", "added", 5, warnings=("2 invalid byte(s) for utf-8 replaced with U+FFFD",)),
    FileProcessed("/notes/b.md", "unchanged"),
    FileProcessed("/notes/c.png", "skipped"),
    FileProcessed("/notes/empty.txt", "failed", error="empty file (0 bytes), nothing to index"),
    FileProcessed("/notes/old.md", "removed"),
    Searchable(5),
    EmbeddingProgress(3),
    EmbeddingProgress(2),
]


def console() -> Console:
    return Console(file=io.StringIO(), width=200, color_system=None)


def test_plain_view_prints_changes_failures_and_warnings_only() -> None:
    out = console()
    view = PlainView(out)
    for event in EVENTS:
        view(event)
    view(IngestFinished(SyncSummary()))
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
    view(IngestFinished(SyncSummary()))
    text = out.file.getvalue()
    assert "failed /notes/empty.txt: empty file (0 bytes), nothing to index" in text
    assert "warning /notes/a.md: 2 invalid byte(s)" in text
    assert view.chunks == 5
    files, embedding = view.progress.tasks
    assert files.completed == 4  # removals are not files of this run
    assert (embedding.description, embedding.completed, embedding.total) == ("Embedding", 5, 5)
    assert "searchable now" in text


def test_views_show_no_embedding_phase_when_nothing_is_left_to_embed() -> None:
    unchanged = (IngestStarted("/notes", 1), FileProcessed("/notes/b.md", "unchanged"), Searchable(0))
    view = ProgressView(console())
    for event in unchanged:
        view(event)
    view(IngestFinished(SyncSummary()))
    assert [t.description for t in view.progress.tasks] == ["Indexing"]
    out = console()
    plain_view = PlainView(out)
    for event in unchanged:
        plain_view(event)
    assert out.file.getvalue().splitlines() == ["ingesting /notes: 1 file"]


def test_embedded_text_says_how_much_is_embedded() -> None:
    assert embedded_text(577, 577) == "all 577 chunks"
    assert embedded_text(1, 1) == "all 1 chunk"
    assert embedded_text(0, 1).startswith("0 of 1 chunk (0%); the other is found by its words")
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
        "2 files could not be ingested:",
        "  /n/empty.txt: empty file",
        "  /n/x.pdf: corrupt",
    ]


def test_paths_and_reasons_are_printed_as_text_not_markup() -> None:
    events = [
        IngestStarted("/n", 3),
        FileProcessed("/n/[/]x[bold].md", "failed", error="bad [/] value [link=x]"),
        FileProcessed("/n/pipe[/].txt", "skipped", error="a named pipe (FIFO), not a regular file; skipped"),
        FileProcessed("/n/caf\\xe9[red].md", "added", 2, warnings=("odd [/] warning",)),
    ]
    for make in (ProgressView, PlainView):
        out = console()
        view = make(out)
        for event in events:
            view(event)
        view(IngestFinished(SyncSummary()))
        text = out.file.getvalue()
        assert "/n/[/]x[bold].md: bad [/] value [link=x]" in text
        assert "/n/pipe[/].txt: a named pipe (FIFO), not a regular file; skipped" in text
        assert "/n/caf\\xe9[red].md: odd [/] warning" in text


def test_summary_lists_skipped_non_regular_files() -> None:
    out = console()
    summary = SyncSummary(files_skipped=1, files_skipped_list=[FileSkip("/n/[/]fifo", "a socket")])
    print_summary(out, summary, "notes")
    assert out.file.getvalue().splitlines()[1:] == [
        "1 file was skipped, each with its reason:",
        "  /n/[/]fifo: a socket",
    ]


def test_every_sync_event_becomes_a_session_event() -> None:
    """A front-end never sees ingest's classes: each of the sync's events has its translation
    (the sync's own end excepted: Session sends IngestFinished once the base is closed)."""
    samples = {
        ingest.SyncStarted: ingest.SyncStarted("/notes", 2),
        ingest.FileDone: ingest.FileDone("/notes/a.md", "failed", 0, "corrupt", ("odd bytes",)),
        ingest.EmbeddingStarted: ingest.EmbeddingStarted(7),
        ingest.ChunksEmbedded: ingest.ChunksEmbedded(3),
        ingest.SyncFinished: ingest.SyncFinished(SyncSummary()),
    }
    assert set(samples) == set(typing.get_args(ingest.SyncEvent))
    assert [from_sync_event(event) for event in samples.values()] == [
        IngestStarted("/notes", 2),
        FileProcessed("/notes/a.md", "failed", 0, "corrupt", ("odd bytes",)),
        Searchable(7),
        EmbeddingProgress(3),
        None,
    ]


def test_session_ingest_sends_its_own_events_and_ends_with_the_summary(tmp_path, home) -> None:
    from assistant.session import Session
    from assistant.settings import load_settings

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nDucks migrate south in winter.\n", encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    events: list = []
    session = Session(load_settings({"home": home, "embedder": "minilm"}))
    try:
        summary = session.ingest(folder, "notes", events.append)
    finally:
        session.close()
    assert all(type(e).__module__ == "assistant.ingest_events" for e in events), events
    assert isinstance(events[0], IngestStarted) and events[0].total_files == 2
    assert events[-1] == IngestFinished(summary)
    statuses = {e.path.rsplit("/", 1)[-1]: e.status for e in events if isinstance(e, FileProcessed)}
    assert statuses == {"a.md": "added", "empty.txt": "failed"}
    assert [type(e) for e in events[-3:-1]] == [Searchable, EmbeddingProgress]
