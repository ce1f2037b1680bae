"""`assistant ingest PATH`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from ...errors import AssistantError
from .. import context
from ..context import EXIT_INTERRUPTED, EXIT_SOME_FILES_FAILED, err, fail, out, state, usage


def ingest(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="A folder (read recursively) or a single file")
    ],
    kb: Annotated[str | None, typer.Option(help="Knowledge base name [default: default]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary object")] = False,
    source: Annotated[
        str | None,
        typer.Option(
            help="With a Chroma server: the name this folder's files are known by in the shared "
            "base [default: the folder's name]; give the same name on every machine"
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="With a Chroma server: sync into a source another folder was ingested from"
        ),
    ] = False,
    follow_links: Annotated[
        bool,
        typer.Option(
            "--follow-links",
            "-L",
            help="Follow links that lead out of PATH (never into /proc, /sys or /dev) "
            "[env: ASSISTANT_FOLLOW_LINKS]",
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Exit with status 3 when any file could not be ingested (also one still failing)"
        ),
    ] = False,
) -> None:
    """Sync PATH into a knowledge base: add new files, update changed ones, drop deleted ones.

    Example: assistant ingest ~/Documents/notes --kb notes
    """
    from ..views.ingest import PlainView, ProgressView, print_summary

    if follow_links:
        state.settings = replace(state.settings, follow_links=True)

    if not path.exists():
        usage(ctx, f"{path} does not exist; give a folder or a file to ingest")
    name = kb or state.session.settings.kb
    view = None if as_json else ProgressView(err) if err.is_terminal else PlainView(err)
    confirm = (lambda question: True) if yes else context.ask if context.can_ask() else None
    summary = _run(path, name, view, source=source, confirm=confirm)
    if as_json:
        out.print_json(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        print_summary(err, summary, name)
    if failed_run(summary, strict=strict):
        raise typer.Exit(EXIT_SOME_FILES_FAILED)


def failed_run(summary, *, strict: bool) -> bool:
    """Whether an ingest that completed exits with status 3: with `strict`, when any file could
    not be ingested (failed now or still failing, unchanged); otherwise only when files failed
    and none of the folder's files is in the base (nothing could be ingested). A folder with a
    few bad files exits 0, the failures listed (and in --json), so `ingest && chat` goes on."""
    failures = len(summary.files_failed) + len(summary.files_still_failing)
    if strict or not failures:
        return failures > 0
    return summary.files_added + summary.files_updated + summary.files_unchanged == 0


def _run(path: Path, name: str, view, **options):
    """The ingest's summary; Ctrl+C stops it with one line saying what was saved (exit 130)."""
    from ..views.ingest import print_interrupted

    session = state.session
    with context.interrupt_once():
        try:
            return session.ingest(path, name, view, **options)
        except (AssistantError, OSError) as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            if view is not None:
                view.stop()
            print_interrupted(err, name, _saved(session, name))
            raise typer.Exit(EXIT_INTERRUPTED) from None


def _saved(session, name: str):
    """What base `name` holds after an interrupted ingest (its KBStats), or None if it is gone (a
    first ingest interrupted before anything was committed leaves no base) or cannot be read."""
    try:
        return session.kb_stats(name) if name in session.knowledge_bases() else None
    except AssistantError:
        return None
