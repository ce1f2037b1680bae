"""`assistant bench` and `assistant bench report FOLDER`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ...errors import AssistantError
from ..context import err, fail, out, state
from ..views.terminal_text import plain
from ..views.terminal_text import text as safe_text


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
    import time as _time

    from rich.live import Live

    from ...bench.report import write_report
    from ...bench.runner import run_bench
    from ...bench.suite import load_suite

    try:
        loaded = load_suite(suite)
    except AssistantError as exc:
        fail(str(exc))
    session = state.session
    names = [m.strip() for m in models.split(",") if m.strip()] if models else [session.default_model()]
    if not names or names == [None]:
        fail("no model to bench: pass --models or install one (`assistant models pull deepseek-r1:7b`)")
    folder = out_dir or state.settings.home / "bench" / _time.strftime("%Y%m%d-%H%M%S")
    table = Table(
        title=safe_text(
            f"{loaded.name}: {len(loaded.tasks)} tasks × {repeat} on {', '.join(names)} → {folder}"
        )
    )
    for col in ("model", "task", "run", "result", "score", "tok/s", "first token", "detail"):
        table.add_column(col, overflow="fold")

    from rich.console import Group
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    )
    bars = {name: progress.add_task(name, total=len(loaded.tasks) * repeat) for name in names}

    def on_record(record, resumed: bool) -> None:
        progress.advance(bars[record.model])
        mark = "[green]pass[/]" if record.passed else "[red]fail[/]"
        table.add_row(
            safe_text(record.model),
            safe_text(record.task),
            str(record.repeat) + (" (kept)" if resumed else ""),
            mark,
            f"{record.score:.2f}",
            f"{record.tokens_per_second:.1f}" if record.tokens_per_second else "–",
            f"{record.time_to_first_token:.1f} s" if record.time_to_first_token is not None else "–",
            safe_text((record.error or record.detail)[:80]),
        )

    try:
        with Live(
            Group(table, progress),
            console=err,
            refresh_per_second=4,
            transient=False,
            auto_refresh=err.is_terminal,
        ):
            records = run_bench(
                session, names, loaded, folder, repeat=repeat, kb=kb, web=web, on_record=on_record
            )
    except KeyboardInterrupt:
        err.print(
            plain(f"interrupted: finished results are kept in {folder}; rerun with --out {folder} to resume"),
            markup=False,
        )
        write_report(folder)
        raise typer.Exit(130) from None
    if not err.is_terminal:
        err.print(table)
    summary = write_report(folder, records)
    for model, s in summary.items():
        speed = f"{s['tokens_per_second']:.1f} tok/s" if s["tokens_per_second"] else "speed unknown"
        out.print(
            plain(f"{model}: quality {s['quality']:.2f}, {s['pass_rate']:.0%} passed, {speed}"),
            markup=False,
            highlight=False,
        )
    out.print(plain(f"report: {folder / 'summary.md'} · chart: {folder / 'chart.svg'}"), markup=False)


def bench_report(
    folder: Annotated[Path, typer.Argument(help="A report folder")],
    against: Annotated[Path | None, typer.Option(help="An earlier report folder to compare with")] = None,
) -> None:
    """Reopen a finished report, or compare it with an earlier one.

    Example: assistant bench report ~/.local/share/r1-assistant/bench/20261129-1200 --against OTHER
    """
    from ...bench.report import compare, write_report
    from ...bench.runner import RESULTS

    for path in (folder, against):
        if path is not None and not (path / RESULTS).is_file():
            fail(f"{path} is not a bench report folder (no {RESULTS})")
    if against is not None:
        out.print(plain(compare(folder, against)), markup=False, highlight=False)
        return
    write_report(folder)
    out.print(plain((folder / "summary.md").read_text(encoding="utf-8")), markup=False, highlight=False)
