"""`assistant mcp`: serve the knowledge base to MCP clients (oterm, Claude Desktop, Open WebUI
through mcpo, editors). The MCP SDK is imported only when the command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..context import err, fail, state, usage
from ..views.terminal_text import plain


def mcp(
    ctx: typer.Context,
    http: Annotated[
        int | None,
        typer.Option(
            "--http",
            metavar="PORT",
            min=0,
            max=65535,
            help="Serve streamable HTTP on 127.0.0.1:PORT (loopback only; 0: any free port) instead of stdio",
        ),
    ] = None,
    allow_ingest: Annotated[
        list[Path] | None,
        typer.Option(
            "--allow-ingest",
            metavar="FOLDER",
            help="Offer an ingest tool that may read this folder and below (repeat for more); "
            "without it, clients can only search and read",
        ),
    ] = None,
    kb: Annotated[str | None, typer.Option(help="Knowledge base searched when a call names none")] = None,
) -> None:
    """Serve the knowledge base over the Model Context Protocol (stdio unless --http).

    Tools: search, list_knowledge_bases, read_passage (and ingest with --allow-ingest).
    Example: assistant mcp --kb notes --allow-ingest ~/Documents/notes
    """
    import dataclasses

    folders = [_folder(ctx, f) for f in allow_ingest or []]
    if kb:
        state.settings = dataclasses.replace(state.settings, kb=kb)
    _serve(http, folders)


def _folder(ctx: typer.Context, folder: Path) -> Path:
    folder = folder.expanduser()
    if not folder.is_dir():
        usage(ctx, f"--allow-ingest {folder}: not a folder; give an existing folder")
    return folder


def _serve(http: int | None, folders: list[Path]) -> None:
    from ...integrations.knowledge_tools import KnowledgeTools
    from ...integrations.mcp_server import (
        HTTP_PATH,
        LOOPBACK,
        build_server,
        listen_loopback,
        serve_http,
        serve_stdio,
    )

    sock = None
    if http is not None:  # the port is taken first: a busy one fails before anything loads
        try:
            sock = listen_loopback(http)
        except OSError as exc:
            reason = exc.strerror or exc
            fail(f"cannot listen on {LOOPBACK}:{http}: {reason}; pick another port (0: any free one)")
    tools = KnowledgeTools(state.session, ingest_folders=folders)
    server = build_server(tools)
    ingest = f"ingest allowed in {', '.join(map(str, tools.ingest_folders))}" if folders else "ingest off"
    about = f"default base '{tools.default_base}'; {ingest}"
    if sock is None:
        err.print(plain(f"MCP server on stdio ({about})"), markup=False)
        serve_stdio(server)
        return
    url = f"http://{LOOPBACK}:{sock.getsockname()[1]}{HTTP_PATH}"
    err.print(plain(f"MCP server at {url} (loopback only; {about})"), markup=False)
    serve_http(server, sock)
