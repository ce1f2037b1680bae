"""How `assistant … --help` reads: `-h` beside `--help`, flags shown as flags, help text as typed.

Typer (0.29) prints every option's type beside it, a flag's too: `--json <bool>` reads as if the
flag took a value. And it reads option help as rich markup, so "[env: ASSISTANT_HOME]" or
"[default: default]" in a help text vanished as an unknown tag. The command and group classes
below fix both once, for every command (`app.build_app` uses them everywhere).
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

#: `-h` works wherever `--help` does (click hands these names down to every subcommand).
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


def _tidy(param: Any) -> Any:
    if getattr(param, "_tidied", False):
        return param
    # Typer's options are not click's Option class: ask what the parameter is.
    if param.param_type_name == "option" and getattr(param, "is_flag", False) and not param.count:
        param.metavar = ""  # typer shows the metavar, when there is one, instead of "<bool>"
    help_text = getattr(param, "help", None)
    if help_text:
        param.help = help_text.replace("[", "\\[")  # shown as typed, never as a markup tag
    param._tidied = True  # type: ignore[attr-defined]
    return param


class _TidyHelp:
    def get_params(self, ctx: typer.Context) -> list[Any]:
        return [_tidy(param) for param in super().get_params(ctx)]  # type: ignore[misc]


class Command(_TidyHelp, TyperCommand):
    """A command whose help shows flags without a type and help text as typed."""


class Group(_TidyHelp, TyperGroup):
    """A command group whose help shows flags without a type and help text as typed."""
