"""Per-query latency of `assistant mcp` on a warm server at 100,000 chunks, through a real MCP
client, and what the protocol adds to the same search made in-process.

The base is benchmarks/latency.py's (100,000 Chinese and English passages with their search tokens,
random unit vectors, an English index; queries embedded for real by e5 and MiniLM), built once and
cached in benchmarks/.work. The server is started the way a client starts it (`assistant mcp --kb
bench`, stdio; with `--transports stdio,http` also `--http 0` through streamable HTTP) and driven
by the SDK's ClientSession. Measured: the time from start to the end of the handshake and to the
first search's answer (the server warms its models up in the background as it starts), then each
`search` tool call (k = 6) from request to parsed result: query embedding, hybrid search, JSON,
the pipe; a protocol `ping` after each, the transport's round trip alone; and between them the
same query through `Session.search` in this process, the search alone (alternating, so that the
load of a shared machine weighs on both alike; `overhead_p50_ms` is the median paired difference).

    python -m benchmarks.mcp_latency [--size 100000] [--queries 200] [--transports stdio]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from assistant.session import Session
from assistant.settings import Settings
from benchmarks.common import machine
from benchmarks.latency import build, mixed_queries

BASE = "bench"
WARM_UP = 5


def assistant_command() -> list[str]:
    script = Path(sys.executable).with_name("assistant")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from tui.cli import main; main()"]


@asynccontextmanager
async def stdio_server(home: Path) -> AsyncIterator[ClientSession]:
    command, *args = assistant_command()
    params = StdioServerParameters(
        command=command, args=[*args, "mcp", "--kb", BASE], env={"ASSISTANT_HOME": str(home)}
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        yield session


@asynccontextmanager
async def http_server(home: Path) -> AsyncIterator[ClientSession]:
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    process = subprocess.Popen(
        [*assistant_command(), "mcp", "--kb", BASE, "--http", "0"], stderr=subprocess.PIPE, env=env
    )
    try:
        url = None
        while url is None:
            line = (await asyncio.to_thread(process.stderr.readline)).decode()
            if not line:
                raise RuntimeError("assistant mcp --http exited before it listened")
            if found := re.search(r"MCP server at (http://\S+/mcp)", line):
                url = found.group(1)
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
            yield session
    finally:
        process.terminate()
        process.wait(timeout=60)


async def measure_server(
    connect: Callable[[Path], AsyncIterator[ClientSession]], home: Path, queries: list[str], local: Session
) -> tuple[dict, dict]:
    """The server's row and, timed alternately with it query by query (so that a machine whose
    load drifts affects both alike), the same searches through `local` in this process."""
    started = time.perf_counter()
    async with connect(home) as session:
        await session.initialize()
        handshake = time.perf_counter() - started
        first = await session.call_tool("search", {"query": queries[0], "k": 6})
        if first.is_error:
            raise RuntimeError(first.content[0].text)
        first_answer = time.perf_counter() - started
        for query in queries[1 : 1 + WARM_UP]:
            await session.call_tool("search", {"query": query, "k": 6})
            local.search(query, k=6)
        times, local_times, pings = [], [], []
        for query in queries:
            start = time.perf_counter()
            result = await session.call_tool("search", {"query": query, "k": 6})
            times.append(1000 * (time.perf_counter() - start))
            assert not result.is_error and len(result.structured_content["passages"]) == 6
            start = time.perf_counter()
            local.search(query, k=6)
            local_times.append(1000 * (time.perf_counter() - start))
            start = time.perf_counter()
            await session.send_ping()
            pings.append(1000 * (time.perf_counter() - start))
    overhead = [a - b for a, b in zip(times, local_times, strict=True)]
    row = {
        "start_to_handshake_s": handshake,
        "start_to_first_answer_s": first_answer,
        **summary(times, queries),
        "ping_p50_ms": statistics.median(pings),
        "overhead_p50_ms": statistics.median(overhead),
    }
    return row, summary(local_times, queries)


def summary(times: list[float], queries: list[str]) -> dict:
    english = [t for t, q in zip(times, queries, strict=True) if q.isascii()]
    ordered = sorted(times)
    return {
        "queries": len(times),
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))],
        "english_p50_ms": statistics.median(english) if english else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--transports", default="stdio", help="stdio, http or both (comma-separated)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "mcp_latency.json")
    args = parser.parse_args()
    queries = mixed_queries(args.queries)
    started = time.perf_counter()
    home = build(args.size)
    print(f"base of {args.size} chunks ready in {time.perf_counter() - started:.0f} s", flush=True)
    servers = {"stdio": stdio_server, "http": http_server}
    rows = []
    local = Session(Settings(home=home, kb=BASE))
    try:
        for transport in args.transports.split(","):
            row, in_process = asyncio.run(measure_server(servers[transport], home, queries, local))
            rows += [
                {"path": f"MCP {transport}", **row},
                {"path": f"Session.search in-process, alternating with MCP {transport}", **in_process},
            ]
            print(json.dumps(rows[-2]), json.dumps(rows[-1]), sep="\n", flush=True)
    finally:
        local.close()
    load = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "load_average_1min_at_end": load, "chunks": args.size, "rows": rows}
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
