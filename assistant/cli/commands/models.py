"""`assistant models` and `assistant models pull TAG`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from ...errors import AssistantError
from ..context import err, fail, out, state
from ..views.sizes import human_bytes
from ..views.terminal_text import plain, styled
from ..views.terminal_text import text as safe_text


def models(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False
) -> None:
    """Installed models (size, parameters, quantisation, thinking, context) and the R1 catalogue.

    Example: assistant models
    """
    if ctx.invoked_subcommand is not None:
        return
    from ...chat.catalog import R1_CATALOG, fits, total_memory_gib

    session = state.session
    installed, problem = session.installed_models()
    memory = total_memory_gib()
    catalog = [
        {
            "tag": c.tag,
            "base": c.base,
            "download_gb": c.download_gb,
            "memory_gib": c.memory_gib(),
            "fits": fits(c, memory),
            "installed": any(m.name == c.tag for m in installed),
        }
        for c in R1_CATALOG
    ]
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "installed": [m.__dict__ for m in installed],
                    "catalog": catalog,
                    "memory_gib": round(memory, 1),
                    "error": problem,
                },
                ensure_ascii=False,
            )
        )
        return
    if problem:
        err.print(styled((problem, "yellow")), highlight=False)
    table = Table(title=safe_text(f"Installed in {session.backend_location()}"))
    for col in ("model", "size", "parameters", "quantisation", "thinking", "context"):
        table.add_column(col, no_wrap=col == "model")
    for m in installed:
        table.add_row(
            safe_text(m.name),
            human_bytes(m.size_bytes),
            safe_text(m.parameter_size),
            safe_text(m.quantization),
            {True: "yes", False: "no", None: "?"}[m.thinking],
            str(m.context_length or "?"),
        )
    out.print(table)
    cat = Table(title=f"DeepSeek-R1 catalogue (this machine: {memory:.0f} GiB)")
    for col in ("tag", "base model", "download", "memory needed", "fits", "installed"):
        cat.add_column(col, no_wrap=col == "tag")
    for c in catalog:
        cat.add_row(
            c["tag"],
            c["base"],
            f"{c['download_gb']:g} GB",
            f"{c['memory_gib']:g} GiB",
            "[green]yes[/]" if c["fits"] else "[red]no[/]",
            "yes" if c["installed"] else "",
        )
    out.print(cat)


def models_pull(tag: Annotated[str, typer.Argument(help="Model tag, e.g. deepseek-r1:7b")]) -> None:
    """Download a model into Ollama, with a progress bar.  Example: assistant models pull deepseek-r1:7b"""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    last = ""
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=err,
            disable=not err.is_terminal,
        ) as progress:
            task = progress.add_task(f"pulling {tag}", total=None)
            for p in state.session.pull(tag):
                if p.total:
                    progress.update(task, total=p.total, completed=p.completed, description=p.status[:40])
                else:
                    progress.update(task, description=p.status[:40])
                if not err.is_terminal and p.status != last:
                    err.print(plain(p.status), markup=False, highlight=False)
                last = p.status
    except AssistantError as exc:
        fail(str(exc))
    if last != "success":
        fail(f"pulling {tag} did not finish (last status: {last or 'none'})")
    err.print(plain(f"pulled {tag}"), markup=False)
