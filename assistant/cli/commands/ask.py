"""`assistant ask QUESTION`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ...errors import AssistantError
from ..context import EXIT_ERROR, err, fail, out, state, usage


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
) -> None:
    """Answer a question from your knowledge base (and the web), streaming the reasoning and answer.

    Example: assistant ask "杜甫的《登高》写了什么？" --web --model deepseek-r1:7b
    """
    from ...chat.events import Final
    from ..views.answer import AnswerView

    if not question.strip():
        usage(ctx, "the QUESTION is empty; give a question to answer")
    view = None if as_json else AnswerView(out, err, show_reasoning=not hide_thinking)
    if view is not None:  # at once, before the slow parts load: what happens first
        view.begin(kb=kb or state.settings.kb, web=web)
    final = None
    try:
        if kb is not None:  # a base named on purpose must exist (the default one may not, yet)
            state.session.require_kb(kb)
        for event in state.session.ask(question, web=web, kb=kb, model=model, think=not no_think):
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
    if as_json and final is not None:
        out.print_json(json.dumps(final.to_dict(), ensure_ascii=False))
    if final is None or (not final.answer and final.notices):
        raise typer.Exit(EXIT_ERROR)
