"""`assistant history` (the conversations, newest first) and `assistant history show ID`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..context import fail, out, state


def history(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """The conversations of `assistant ask` and the chat app: id, title, model, base, when, turns.

    Example: assistant history
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..context import err
    from ..views.history import conversations_json, print_conversations

    session = state.session
    rows = []
    for conversation in session.list_conversations():
        opened = session.open_conversation(conversation.id)
        rows.append((conversation, len(opened[1]) if opened else 0))
    if as_json:
        out.print_json(json.dumps(conversations_json(rows), ensure_ascii=False))
    else:
        print_conversations(out, err, rows)


def history_show(
    conversation_id: Annotated[
        int, typer.Argument(metavar="ID", help="A conversation's id (see `assistant history`)")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Print one conversation: each question and its answer, with their sources.

    Example: assistant history show 3
    """
    from ..views.history import conversation_json, print_conversation

    opened = state.session.open_conversation(conversation_id)
    if opened is None:
        fail(f"there is no conversation {conversation_id}; `assistant history` lists them")
    conversation, exchanges = opened
    if as_json:
        out.print_json(json.dumps(conversation_json(conversation, exchanges), ensure_ascii=False))
    else:
        print_conversation(out, conversation, exchanges)
