"""`assistant bench` and `assistant bench report FOLDER`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ...chat.presentation import counted
from ...errors import AssistantError
from ..context import err, fail, out, state, usage


def bench(
    ctx: typer.Context,
    models: Annotated[
        str | None, typer.Option(help="Comma-separated model tags [default: the chat model]")
    ] = None,
    suite: Annotated[str, typer.Option(help="Suite name (builtin, docs-kb) or a YAML/JSON file")] = "builtin",
    repeat: Annotated[int, typer.Option(min=1, max=20, help="Runs of each task, for stability")] = 1,
    web: Annotated[bool, typer.Option("--web/--no-web", help="Allow the tasks that search the web")] = True,
    kb: Annotated[str | None, typer.Option(help="Knowledge base for tasks marked kb: true")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Report folder (reuse one to resume)")] = None,
) -> None:
    """Run a suite of graded tasks against each model and write a report.

    Example: assistant bench --models deepseek-r1:7b,deepseek-r1:14b --repeat 3
    """
    if ctx.invoked_subcommand is not None:
        return
    from ...bench.report import new_report_folder, write_report
    from ...bench.runner import run_bench
    from ...bench.suite import UnknownSuiteError, load_suite
    from ..views.bench import BenchView, print_interrupted, print_summary

    try:
        loaded = load_suite(suite)
    except UnknownSuiteError as exc:
        usage(ctx, str(exc))
    except AssistantError as exc:
        fail(str(exc))
    session = state.session
    names = [m.strip() for m in models.split(",") if m.strip()] if models else [session.default_model()]
    if not names or names == [None]:
        fail("no model to bench: pass --models or install one (`assistant models pull deepseek-r1:7b`)")
    folder = out_dir or new_report_folder(session.settings.home)
    title = f"{loaded.name}: {counted(len(loaded.tasks), 'task')} × {repeat} on {', '.join(names)} → {folder}"
    view = BenchView(err, title, names, len(loaded.tasks) * repeat)
    try:
        with view:
            records = run_bench(session, names, loaded, folder, repeat=repeat, kb=kb, web=web, on_record=view)
    except KeyboardInterrupt:
        print_interrupted(err, folder)
        write_report(folder)
        raise typer.Exit(130) from None
    view.finish()
    print_summary(out, write_report(folder, records), folder)


def bench_report(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(metavar="FOLDER", help="A report folder")],
    against: Annotated[Path | None, typer.Option(help="An earlier report folder to compare with")] = None,
) -> None:
    """Reopen a finished report, or compare it with an earlier one.

    Example: assistant bench report ~/.local/share/r1-assistant/bench/20261129-1200 --against OTHER
    """
    from ...bench.report import compare, write_report
    from ...bench.runner import RESULTS
    from ..views.bench import print_text

    for path in (folder, against):
        if path is not None and not (path / RESULTS).is_file():
            usage(ctx, f"{path} is not a bench report folder (no {RESULTS})")
    if against is not None:
        print_text(out, compare(folder, against))
        return
    write_report(folder)
    print_text(out, (folder / "summary.md").read_text(encoding="utf-8"))
