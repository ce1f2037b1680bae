"""`assistant ingest PATH`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ...errors import AssistantError
from ..context import EXIT_SOME_FILES_FAILED, err, fail, out, state


def ingest(
    path: Annotated[Path, typer.Argument(help="A folder (read recursively) or a single file")],
    kb: Annotated[str | None, typer.Option(help="Knowledge base name [default: default]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary object")] = False,
    source: Annotated[
        str | None,
        typer.Option(
            help="With a Chroma server: the name this folder's files are known by in the shared "
            "base [default: the folder's name]; give the same name on every machine"
        ),
    ] = None,
) -> None:
    """Sync PATH into a knowledge base: add new files, update changed ones, drop deleted ones.

    Example: assistant ingest ~/Documents/notes --kb notes
    """
    _start_reader_server()
    from ..views.ingest import PlainView, ProgressView, print_summary

    if not path.exists():
        fail(f"{path} does not exist; give a folder or a file to ingest")
    name = kb or state.settings.kb
    view = None if as_json else ProgressView(err) if err.is_terminal else PlainView(err)
    try:
        summary = state.session.ingest(path, name, view, source=source)
    except (AssistantError, OSError) as exc:
        fail(str(exc))
    if as_json:
        out.print_json(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        print_summary(err, summary, name)
    if summary.files_failed:
        raise typer.Exit(EXIT_SOME_FILES_FAILED)


def _start_reader_server() -> None:
    """Start the server that ingest's reader processes fork from (ingest.workers) right away.

    It imports the parsers and loads jieba's dictionary, about a second; started before this
    process imports Chroma and the ingest pipeline (another second), the two overlap on two
    cores and the base is searchable that much sooner. Linux only, as the server is.
    """
    import multiprocessing

    if sys.platform != "linux" or "forkserver" not in multiprocessing.get_all_start_methods():
        return
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload(["ingest.reader_preload"])  # the list ingest.workers sets
    forkserver.ensure_running()
