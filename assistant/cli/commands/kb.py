"""`assistant kb list | stats | remove`."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from ...errors import AssistantError
from ..context import err, fail, out, state
from ..views.sizes import human_bytes
from ..views.terminal_text import plain
from ..views.terminal_text import text as safe_text


def kb_list() -> None:
    """List knowledge bases.  Example: assistant kb list"""
    try:
        names = state.session.knowledge_bases()
    except AssistantError as exc:
        fail(str(exc))
    if not names:
        where = (
            f"on the Chroma server at {state.settings.chroma_url}"
            if state.settings.chroma_url
            else (f"in {state.settings.home}")
        )
        err.print(
            plain(f"no knowledge bases yet {where}; create one with `assistant ingest PATH`"),
            markup=False,
        )
        return
    for name in names:
        out.print(plain(name), markup=False, highlight=False)


def kb_stats(
    kb: Annotated[str | None, typer.Option(help="Knowledge base name [default: default]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Documents, chunks, embedder and size of a knowledge base.  Example: assistant kb stats --kb notes"""
    try:
        stats = state.session.kb_stats(kb or state.settings.kb)
    except AssistantError as exc:
        fail(str(exc))
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "name": stats.name,
                    "documents": stats.documents,
                    "chunks": stats.chunks,
                    "embedded_chunks": stats.embedded_chunks,
                    "embedder": stats.embedder,
                    "bytes": stats.bytes,
                    "location": stats.location,
                },
                ensure_ascii=False,
            )
        )
        return
    from ..views.ingest import embedded_text

    table = Table(show_header=False, box=None)
    table.add_row("knowledge base", safe_text(stats.name))
    table.add_row("documents", str(stats.documents))
    table.add_row("chunks", str(stats.chunks))
    table.add_row("embedded", embedded_text(stats.embedded_chunks, stats.chunks))
    table.add_row("embedder", safe_text(stats.embedder))
    shared = stats.location.startswith(("http://", "https://"))
    table.add_row("cache on disk" if shared else "size on disk", human_bytes(stats.bytes))
    table.add_row("location", safe_text(stats.location))
    out.print(table)


def kb_remove(
    name: Annotated[str, typer.Argument(help="Knowledge base to delete")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete a knowledge base (its vectors, index and manifest; your files are not touched).

    Example: assistant kb remove notes --yes
    """
    session = state.session
    server = state.settings.chroma_url
    try:
        known = session.knowledge_bases()
    except AssistantError as exc:
        fail(str(exc))
    if name not in known:
        fail(f"no knowledge base named '{name}'; `assistant kb list` shows the existing ones")
    everyone = (
        f"'{name}' is shared on the Chroma server at {server}: removing it deletes it for every "
        "machine that uses it"
    )
    if not yes:
        if not _can_ask():
            fail("refusing to delete without confirmation; pass --yes")
        if server:
            err.print(plain(everyone + "."), markup=False)
            typed = typer.prompt(
                f"Type the base's name ({name}) to delete it", default="", show_default=False
            )
            if typed.strip() != name:
                fail("the name did not match; nothing was deleted")
        else:
            typer.confirm(f"Delete knowledge base '{name}'?", abort=True)
    try:
        session.remove_kb(name)
    except AssistantError as exc:
        fail(str(exc))
    if server:
        err.print(
            plain(f"removed shared knowledge base '{name}' from {server} (for every machine)"), markup=False
        )
    else:
        err.print(plain(f"removed knowledge base '{name}'"), markup=False)


def _can_ask() -> bool:
    """Whether someone can answer a question: stdin is a terminal."""
    return sys.stdin.isatty()
