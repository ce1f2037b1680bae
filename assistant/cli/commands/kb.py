"""`assistant kb list | stats | remove`."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from ...errors import AssistantError
from ..context import err, fail, out, state
from ..views.kb import print_names, print_removed, print_stats, shared_removal_warning, stats_json
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
        print_stats(out, stats)


def kb_remove(
    name: Annotated[str, typer.Argument(help="Knowledge base to delete")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete a knowledge base (its vectors, index and manifest; your files are not touched).

    Example: assistant kb remove notes --yes
    """
    session = state.session
    server = session.settings.chroma_url
    try:
        known = session.knowledge_bases()
    except AssistantError as exc:
        fail(str(exc))
    if name not in known:
        fail(f"no knowledge base named '{name}'; `assistant kb list` shows the existing ones")
    if not yes:
        _confirm_removal(name, server)
    try:
        session.remove_kb(name)
    except AssistantError as exc:
        fail(str(exc))
    print_removed(err, name, server)


def _confirm_removal(name: str, server: str | None) -> None:
    """Ask before deleting: a shared base's name must be typed, a local one confirmed."""
    if not _can_ask():
        fail("refusing to delete without confirmation; pass --yes")
    if server:
        err.print(plain(shared_removal_warning(name, server)), markup=False)
        typed = typer.prompt(f"Type the base's name ({name}) to delete it", default="", show_default=False)
        if typed.strip() != name:
            fail("the name did not match; nothing was deleted")
    else:
        typer.confirm(f"Delete knowledge base '{name}'?", abort=True)


def _can_ask() -> bool:
    """Whether someone can answer a question: stdin is a terminal."""
    return sys.stdin.isatty()
