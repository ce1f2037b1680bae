"""The `assistant` console command: the CLI of `assistant.cli` plus `assistant chat`, which opens
this app (and plain `assistant` on a terminal does too). It lives here because nothing outside
`tui/` may import the TUI."""

from __future__ import annotations

import dataclasses
import os
from typing import Annotated

import typer

from assistant import cli
from assistant.cli.context import fail
from assistant.errors import AssistantError


def run_chat(model: str | None = None, kb: str | None = None) -> None:
    from .app import AssistantApp
    from .clipboard import clipboard_note

    settings = cli.state.settings
    settings = dataclasses.replace(settings, model=model or settings.model, kb=kb or settings.kb)
    AssistantApp(settings, clipboard_note=clipboard_note(os.environ)).run()


def chat(
    model: Annotated[str | None, typer.Option(help="Model tag [env: ASSISTANT_MODEL]")] = None,
    kb: Annotated[str | None, typer.Option(help="Knowledge base name [default: default]")] = None,
) -> None:
    """Open the terminal chat app.  Example: assistant chat --model deepseek-r1:14b --kb notes"""
    if kb is not None:  # a base named on purpose must exist; the app can create the default one
        try:  # one that cannot be reached now opens, and each question says so
            cli.state.session.require_kb(kb, unreachable_ok=True)
        except AssistantError as exc:
            fail(str(exc))
    run_chat(model, kb)


def main() -> None:
    cli.run(cli.build_app([chat], on_no_command=run_chat))
