"""`assistant search QUERY`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ...errors import AssistantError
from ..context import err, fail, out, state, usage
from ..views.terminal_text import styled


def search(
    ctx: typer.Context,
    query: Annotated[
        str | None, typer.Argument(metavar="QUERY", help="The question to find sources for")
    ] = None,
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
    from ..views.search import print_sources

    if (query is None) == (queries is None):
        usage(ctx, "give a QUERY or --queries FILE (one of them)")
    if query is not None and not query.strip():
        usage(ctx, "the QUERY is empty; give the words or question to search for")
    session = state.session
    if queries is not None:
        if not queries.is_file():
            usage(ctx, f"{queries} is not a file; --queries takes a file of queries, one per line")
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
    if result.nothing_left:  # every part asked for failed: each notice says why
        *before, last = result.notices or ["nothing to search"]
        for notice in before:
            err.print(styled(("notice:", "yellow"), " ", notice), highlight=False)
        fail(last)
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
    print_sources(out, result.sources, query)
