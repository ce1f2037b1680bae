"""`assistant models` and `assistant models pull TAG`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ...errors import AssistantError
from ..context import EXIT_ERROR, err, fail, out, state
from ..views.terminal_text import plain


def models(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False
) -> None:
    """Installed models (size, parameters, quantisation, thinking, context) and the R1 catalogue.

    Example: assistant models
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..views.models import listing_json, print_listing

    listing = state.session.model_listing()
    if as_json:
        out.print_json(json.dumps(listing_json(listing), ensure_ascii=False))
    else:
        print_listing(out, err, listing)
    if listing.problem:
        # The catalogue is still worth showing, but the installed models are unknown: a script
        # reading an empty "installed" list must not take it for "none installed".
        raise typer.Exit(EXIT_ERROR)


def models_pull(
    tag: Annotated[str, typer.Argument(metavar="TAG", help="Model tag, e.g. deepseek-r1:7b")],
) -> None:
    """Download a model into Ollama, with a progress bar.  Example: assistant models pull deepseek-r1:7b"""
    from ..views.models import PullView

    try:
        with PullView(err, tag) as view:
            for progress in state.session.pull(tag):
                view(progress)
    except AssistantError as exc:
        fail(str(exc))
    if view.last != "success":
        fail(f"pulling {tag} did not finish (last status: {view.last or 'none'})")
    err.print(plain(f"pulled {tag}"), markup=False)
