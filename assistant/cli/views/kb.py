"""`assistant kb list | stats | remove | unlock`: base names, one base's numbers, what was removed
or unlocked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from ...chat.presentation import counted
from .ingest import embedded_text
from .sizes import human_bytes
from .terminal_text import plain
from .terminal_text import text as safe_text

if TYPE_CHECKING:
    from pathlib import Path

    from vectorstore import KBStats


def print_names(out: Console, err: Console, names: list[str], *, server: str | None, home: Path) -> None:
    """One base name a line; when there is none, where none was found and how to make one."""
    if not names:
        where = f"on the Chroma server at {server}" if server else f"in {home}"
        err.print(
            plain(f"no knowledge bases yet {where}; create one with `assistant ingest PATH`"), markup=False
        )
    for name in names:
        out.print(plain(name), markup=False, highlight=False)


def stats_json(stats: KBStats) -> dict[str, Any]:
    return {
        "name": stats.name,
        "documents": stats.documents,
        "chunks": stats.chunks,
        "embedded_chunks": stats.embedded_chunks,
        "ocr_pages": stats.ocr_pages,
        "embedder": stats.embedder,
        "bytes": stats.bytes,
        "location": stats.location,
        "skipped_entries": stats.skipped_entries,
        "problems": [{"what": what, "why": why} for what, why in stats.problems],
    }


def print_stats(out: Console, err: Console, stats: KBStats) -> None:
    table = Table(show_header=False, box=None)
    table.add_row("knowledge base", safe_text(stats.name))
    table.add_row("documents", str(stats.documents))
    table.add_row("chunks", str(stats.chunks))
    table.add_row("embedded", embedded_text(stats.embedded_chunks, stats.chunks))
    table.add_row("pages read by OCR", str(stats.ocr_pages))
    table.add_row("embedder", safe_text(stats.embedder))
    shared = stats.location.startswith(("http://", "https://"))
    table.add_row("cache on disk" if shared else "size on disk", human_bytes(stats.bytes))
    table.add_row("location", safe_text(stats.location))
    if stats.skipped_entries:
        table.add_row(
            "skipped", f"{counted(stats.skipped_entries, 'entry')} of the server's record failed checks"
        )
    out.print(table)
    for what, why in stats.problems:
        err.print(plain(f"warning: skipped {what}: {why}"), markup=False, highlight=False)


def shared_removal_warning(name: str, server: str) -> str:
    return (
        f"'{name}' is shared on the Chroma server at {server}: removing it deletes it for every "
        "machine that uses it."
    )


def print_writer(err: Console, name: str, holder: str, detail: str) -> None:
    err.print(plain(f"'{name}' is being written by {holder}, {detail}."), markup=False)


def print_unlocked(err: Console, name: str, holder: str | None) -> None:
    if holder is None:
        err.print(plain(f"knowledge base '{name}' is not being written; nothing to unlock"), markup=False)
    else:
        err.print(
            plain(f"broke the write lease of '{name}' held by {holder}; the next ingest repairs the base"),
            markup=False,
        )


def print_removed(err: Console, name: str, server: str | None) -> None:
    if server:
        err.print(
            plain(f"removed shared knowledge base '{name}' from {server} (for every machine)"), markup=False
        )
    else:
        err.print(plain(f"removed knowledge base '{name}'"), markup=False)
