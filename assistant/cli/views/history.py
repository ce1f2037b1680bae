"""`assistant history` and `assistant history show ID`: the conversations of the chat app's store
(the CLI's `ask` saves there too), and one conversation's exchanges. Titles, questions and answers
are untrusted text: printed as text, never as markup or control sequences."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from ...chat.presentation import counted
from .terminal_text import styled
from .terminal_text import text as safe_text

if TYPE_CHECKING:
    from ...conversations import Conversation, Exchange


def when(seconds: float, now: float | None = None) -> str:
    """A time as people say it: "just now", "5 min ago", "3 h ago", then the local date."""
    ago = (time.time() if now is None else now) - seconds
    if ago < 60:
        return "just now"
    if ago < 3600:
        return f"{int(ago // 60)} min ago"
    if ago < 86400:
        return f"{int(ago // 3600)} h ago"
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M")


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def conversations_json(rows: list[tuple[Conversation, int]]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "title": c.title,
            "model": c.model,
            "kb": c.kb,
            "created": _iso(c.created),
            "updated": _iso(c.updated),
            "turns": turns,
        }
        for c, turns in rows
    ]


def print_conversations(out: Console, err: Console, rows: list[tuple[Conversation, int]]) -> None:
    """One conversation a row, the most recent first; when there is none, how to start one."""
    if not rows:
        err.print(
            "no conversations yet; `assistant ask QUESTION` or `assistant chat` starts one", markup=False
        )
        return
    table = Table(box=None, header_style="bold")
    for column in ("id", "title", "model", "base", "when", "turns"):
        table.add_column(column, justify="right" if column in ("id", "turns") else "left")
    for c, turns in rows:
        table.add_row(
            str(c.id), safe_text(c.title), safe_text(c.model), safe_text(c.kb), when(c.updated), str(turns)
        )
    out.print(table)
    err.print(
        "[dim]`assistant history show ID` prints one; "
        "`assistant ask -c` or `--conversation ID` goes on with it[/]",
        highlight=False,
    )


def conversation_json(conversation: Conversation, exchanges: list[Exchange]) -> dict[str, Any]:
    return {
        **conversations_json([(conversation, len(exchanges))])[0],
        "exchanges": [exchange.to_dict() for exchange in exchanges],
    }


def print_conversation(out: Console, conversation: Conversation, exchanges: list[Exchange]) -> None:
    """The conversation's header, then each question (bold) and its answer, with the sources it
    had and any error or stop, as the chat app shows them (reasoning left out)."""
    c = conversation
    out.print(
        styled(
            (f"conversation {c.id}: ", "bold"),
            (c.title, "bold"),
            (f"  {c.model or 'no model'} · base {c.kb or '-'} · {counted(len(exchanges), 'turn')}", "dim"),
        )
    )
    for exchange in exchanges:
        out.print()
        out.print(styled(("› ", "bold cyan"), (exchange.question, "bold")))
        if exchange.answer:
            out.print(safe_text(exchange.answer))
        if exchange.error:
            out.print(styled((f"no answer: {exchange.error}", "red")))
        elif exchange.stopped:
            out.print(styled(("(stopped before the end)", "yellow")))
        for source in exchange.sources:
            out.print(styled((f"  [{source.label}] ", "dim"), (f"{source.title} · {source.location}", "dim")))
