"""`assistant kb list | stats | remove | unlock`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ...errors import AssistantError
from .. import context
from ..context import err, fail, out, state
from ..views.kb import (
    print_names,
    print_removed,
    print_stats,
    print_unlocked,
    print_writer,
    shared_removal_warning,
    stats_json,
)
from ..views.terminal_text import plain


def kb_list() -> None:
    """List knowledge bases.  Example: assistant kb list"""
    session = state.session
    try:
        names = session.knowledge_bases()
    except AssistantError as exc:
        fail(str(exc))
    print_names(out, err, names, server=session.settings.chroma_url, home=session.settings.home)


def kb_stats(
    kb: Annotated[str | None, typer.Option(help="Knowledge base name [default: default]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Documents, chunks, embedder and size of a knowledge base.  Example: assistant kb stats --kb notes"""
    session = state.session
    try:
        stats = session.kb_stats(kb or session.settings.kb)
    except AssistantError as exc:
        fail(str(exc))
    if as_json:
        out.print_json(json.dumps(stats_json(stats), ensure_ascii=False))
    else:
        print_stats(out, err, stats)


def kb_remove(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Knowledge base to delete")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete a knowledge base (its vectors, index and manifest; your files are not touched).

    Example: assistant kb remove notes --yes
    """
    session = state.session
    server = session.settings.chroma_url
    try:
        session.require_kb(name)
    except AssistantError as exc:
        fail(str(exc))
    if not yes:
        _confirm_removal(name, server)
    try:
        session.remove_kb(name)
    except AssistantError as exc:
        fail(str(exc))
    print_removed(err, name, server)


def _confirm_removal(name: str, server: str | None) -> None:
    """Ask before deleting: a shared base's name must be typed, a local one confirmed."""
    if not context.can_ask():
        fail("refusing to delete without confirmation; pass --yes")
    if server:
        err.print(plain(shared_removal_warning(name, server)), markup=False)
        typed = typer.prompt(f"Type the base's name ({name}) to delete it", default="", show_default=False)
        if typed.strip() != name:
            fail("the name did not match; nothing was deleted")
    else:
        typer.confirm(f"Delete knowledge base '{name}'?", abort=True)


def kb_unlock(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Knowledge base whose writer is gone")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Break the write lease of a base whose writer is gone (a killed ingest on another machine).

    Example: assistant kb unlock team --yes
    """
    session = state.session
    try:
        guard = session.kb_writer(name)
    except AssistantError as exc:
        fail(str(exc))
    if guard is None:
        print_unlocked(err, name, None)
        return
    print_writer(err, name, guard.holder, guard.detail)
    if not yes:
        if not context.can_ask():
            fail("refusing to break the lease without confirmation; pass --yes")
        if not context.ask(f"Break the lease of {guard.holder}? (if that writer still runs, it stops)"):
            fail("nothing was changed")
    try:
        session.unlock_kb(name, guard)
    except AssistantError as exc:
        fail(str(exc))
    print_unlocked(err, name, guard.holder)
