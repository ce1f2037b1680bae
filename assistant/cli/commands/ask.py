"""`assistant ask QUESTION`: one answer, saved as a conversation of the chat app's store (unless
`--no-log`, as `llm --no-log`); `-c` goes on with the last conversation and `--conversation ID`
with a given one (as `llm -c`)."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Annotated

import typer

from ...errors import AssistantError
from ..context import EXIT_ERROR, err, fail, out, state, usage

if TYPE_CHECKING:
    from ...chat.events import Final
    from ...chat.prompt import Turn
    from ...conversations import Conversation


def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="Your question")],
    kb: Annotated[str | None, typer.Option(help="Knowledge base name [default: default]")] = None,
    web: Annotated[bool, typer.Option("--web", help="Also search the web for this question")] = False,
    model: Annotated[str | None, typer.Option(help="Model tag [env: ASSISTANT_MODEL]")] = None,
    no_think: Annotated[bool, typer.Option("--no-think", help="Ask the model not to reason")] = False,
    hide_thinking: Annotated[
        bool, typer.Option("--hide-thinking", help="Do not print the reasoning")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object at the end")] = False,
    go_on: Annotated[
        bool,
        typer.Option(
            "--continue", "-c", help="Continue the last conversation (of this command or the chat app)"
        ),
    ] = False,
    conversation: Annotated[
        int | None,
        typer.Option(
            "--conversation", metavar="ID", help="Continue conversation ID (see `assistant history`)"
        ),
    ] = None,
    no_log: Annotated[
        bool,
        typer.Option("--no-log", help="Do not save this question and its answer in the history"),
    ] = False,
) -> None:
    """Answer a question from your knowledge base (and the web), streaming the reasoning and answer.

    Example: assistant ask "杜甫的《登高》写了什么？" --web --model deepseek-r1:7b
    """
    from ..views.answer import AnswerView

    if not question.strip():
        usage(ctx, "the QUESTION is empty; give a question to answer")
    if go_on and conversation is not None:
        usage(ctx, "give --continue or --conversation ID, not both")
    earlier, history = _earlier(conversation, go_on)
    if earlier is not None:  # the conversation goes on with its model, and its base if it is still there
        model = model or earlier.model or None
        if kb is None and earlier.kb and earlier.kb in state.session.knowledge_bases():
            kb = earlier.kb
    view = None if as_json else AnswerView(out, err, show_reasoning=not hide_thinking)
    if view is not None:  # at once, before the slow parts load: what happens first
        view.begin(kb=kb or state.settings.kb, web=web)
    final = _answer(question, view, web=web, kb=kb, model=model, history=history, think=not no_think)
    saved = None if no_log else _save(question, final, earlier, kb or state.settings.kb)
    if as_json and final is not None:
        out.print_json(json.dumps({**final.to_dict(), "conversation": saved}, ensure_ascii=False))
    elif saved is not None:
        err.print(f"[dim]conversation {saved} · `assistant ask -c` goes on with it[/]", highlight=False)
    if final is None or (not final.answer and final.notices):
        raise typer.Exit(EXIT_ERROR)


def _answer(question: str, view, *, kb: str | None, **options) -> Final | None:
    """Stream the answer's events to `view` (if any); the Final event, or None if none came."""
    from ...chat.events import Final

    final = None
    try:
        if kb is not None:  # a base named on purpose must exist (the default one may not, yet)
            # One that cannot be reached now costs only itself: the answer says so.
            state.session.require_kb(kb, unreachable_ok=True)
        for event in state.session.ask(question, kb=kb, **options):
            if view is not None:
                view(event)
            if isinstance(event, Final):
                final = event
    except AssistantError as exc:
        if view is not None:
            view.close()
        fail(str(exc))
    finally:
        if view is not None:
            view.close()
    return final


def _earlier(conversation: int | None, go_on: bool) -> tuple[Conversation | None, list[Turn]]:
    """The conversation to go on with (None: a new one) and its turns as the chat app sends them
    (each question and final answer; no reasoning). Earlier turns go to the model only: the web
    search gets the new question alone."""
    session = state.session
    if conversation is not None:
        opened = session.open_conversation(conversation)
        if opened is None:
            fail(f"there is no conversation {conversation}; `assistant history` lists them")
    elif go_on:
        listed = session.list_conversations()
        opened = session.open_conversation(listed[0].id) if listed else None
        if opened is None:
            err.print("[dim]no earlier conversation: this question starts one[/]", highlight=False)
    else:
        return None, []
    if opened is None:
        return None, []
    from ...chat.prompt import Turn

    found, exchanges = opened
    return found, [Turn(ex.question, ex.answer) for ex in exchanges if ex.answer]


def _save(question: str, final, earlier: Conversation | None, kb: str) -> int | None:
    """Save the exchange into `earlier` (or a new conversation); its id, or None when there was
    no answer to keep (or the store cannot be written: said in one line, the answer stands)."""
    from ...conversations import Exchange

    if final is None or not final.answer:
        return None
    try:
        exchange = Exchange.from_final(question, final, stopped=final.interrupted)
        return state.session.save_exchange(earlier.id if earlier else None, exchange, kb=kb)
    except (AssistantError, OSError, sqlite3.Error) as exc:
        err.print(f"[yellow]the answer was not saved to the history: {exc}[/]", highlight=False)
        return None
