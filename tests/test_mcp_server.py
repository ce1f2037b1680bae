"""`assistant mcp` for real: started as a subprocess and driven by the MCP SDK's own clients (stdio
and streamable HTTP), over a base of ../shared/data/docs on the default embedder. Known passages
are found in Chinese and English, with the same ranking as `assistant search --json`; bad arguments
are tool errors and the server goes on; stdout carries nothing but the protocol; HTTP listens on
127.0.0.1 and refuses other Host headers; ingest works only inside --allow-ingest folders; the web
gets the query alone, and only when a call asks. Every wait is bounded; processes are stopped."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from typer.testing import CliRunner

from assistant.cli import app

from corpus import DOCS, english, write_files
from docs_base import copy_docs_home
from fakes_searxng import FakeSearxng, Hit

pytestmark = pytest.mark.slow

#: Start-up, the models' warm-up and one search, on a busy CI machine.
TIMEOUT = 240


def assistant_command() -> list[str]:
    """This environment's `assistant` (never another one found on PATH)."""
    script = Path(sys.executable).with_name("assistant")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from tui.cli import main; main()"]


@asynccontextmanager
async def stdio_session(
    home: Path, *args: str, env: dict[str, str] | None = None, errlog=None
) -> AsyncIterator[ClientSession]:
    command, *rest = assistant_command()
    params = StdioServerParameters(
        command=command, args=[*rest, "mcp", *args], env={"ASSISTANT_HOME": str(home), **(env or {})}
    )
    async with stdio_client(params, errlog=errlog or sys.stderr) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


def cli_hits(home: Path, query: str, k: int) -> list[dict]:
    result = CliRunner().invoke(app, ["--home", str(home), "search", query, "--json", "-k", str(k)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["hits"]


@pytest.fixture
def docs_home(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    return copy_docs_home(tmp_path_factory, home)


KNOWN = [
    # (query, the file of the first passage, text it holds)
    ("个人信息处理者的义务有哪些？", "个人信息保护法.md", "个人信息处理者"),
    ("无边落木萧萧下", "poet.tang.11000.json", "無邊落木蕭蕭下"),  # simplified finds traditional
    ("What is a duckling?", "wiki_duck.html", "duckling"),
    ("AutoGen multi-agent conversation framework", "autogen", "AutoGen"),
]


async def test_stdio_lists_tools_and_finds_known_passages_in_chinese_and_english(docs_home: Path) -> None:
    async with asyncio.timeout(TIMEOUT), stdio_session(docs_home) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == {"search", "list_knowledge_bases", "read_passage"}
        assert {"query", "base", "k", "web"} == set(tools["search"].input_schema["properties"])

        for query, file, text in KNOWN:
            result = await session.call_tool("search", {"query": query, "k": 4})
            assert not result.is_error, result.content
            passages = result.structured_content["passages"]
            assert Path(passages[0]["file"]).name.startswith(file), (query, passages[0]["location"])
            assert text in passages[0]["text"]
            assert text in result.content[0].text  # what a model reads is the same JSON, in UTF-8
            # The first passage is the one `assistant search` puts first. (Further down, near ties
            # may order differently in another process: a base under 1,000 vectors has its HNSW
            # graph rebuilt on each open, by several threads. In one process the lists are equal:
            # test_knowledge_tools.py.)
            [first] = cli_hits(docs_home, query, 1)
            assert (passages[0]["label"], passages[0]["chunk_id"], passages[0]["text"]) == (
                first["label"],
                first["chunk_id"],
                first["text"],
            )
            assert [p["label"] for p in passages] == ["K1", "K2", "K3", "K4"]

            read = await session.call_tool("read_passage", {"id": passages[0]["id"], "context": 1})
            assert not read.is_error, read.content
            full = read.structured_content
            assert (full["text"], full["location"]) == (passages[0]["text"], passages[0]["location"])
            assert 1 <= full["position"] <= full["count"]
            assert len(full["before"]) == min(1, full["position"] - 1)
            assert len(full["after"]) == min(1, full["count"] - full["position"])

        listing = (await session.call_tool("list_knowledge_bases", {})).structured_content
        [base] = listing["bases"]
        documents = sum(1 for p in DOCS.rglob("*") if p.is_file())
        assert (base["name"], base["default"], base["documents"]) == ("default", True, documents)
        assert base["chunks"] == base["embedded_chunks"] > 100
        assert listing["ingest_folders"] == []


async def test_bad_arguments_are_tool_errors_and_the_server_goes_on(docs_home: Path, tmp_path: Path) -> None:
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as errlog:
        async with asyncio.timeout(TIMEOUT), stdio_session(docs_home, errlog=errlog) as session:
            for name, arguments, message in (
                (
                    "search",
                    {"query": "ducks", "base": "nope"},
                    "no knowledge base named 'nope' (known: default)",
                ),
                ("search", {"query": "ducks", "k": 0}, "k must be between 1 and 50 (got 0)"),
                ("search", {"query": "ducks", "k": 51}, "k must be between 1 and 50 (got 51)"),
                ("search", {"query": "   "}, "query is empty"),
                ("search", {}, "query"),
                ("read_passage", {"id": "K1"}, "'K1' is not a passage id"),
                ("read_passage", {"id": "default:0:0:00000"}, "has no passage"),
                ("ingest", {"folder": "/etc"}, "ingest"),
            ):
                result = await session.call_tool(name, arguments)
                assert result.is_error, (name, arguments)
                assert message in result.content[0].text, result.content[0].text
                assert "Traceback" not in result.content[0].text
            ok = await session.call_tool("search", {"query": "duckling", "k": 1})
            assert not ok.is_error and ok.structured_content["passages"]
    assert "Traceback" not in stderr.read_text(encoding="utf-8")


def test_stdout_carries_only_the_protocol(docs_home: Path) -> None:
    """Raw JSON-RPC over the pipes: every line the server writes is a JSON-RPC message."""
    env = {**os.environ, "ASSISTANT_HOME": str(docs_home)}
    process = subprocess.Popen(
        [*assistant_command(), "mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    lines: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    threading.Thread(target=process.stderr.read, daemon=True).start()

    def send(message: dict) -> None:
        process.stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
        process.stdin.flush()

    def reply(request_id: int) -> dict:
        while True:
            message = json.loads(lines.get(timeout=TIMEOUT))
            assert message["jsonrpc"] == "2.0"
            if message.get("id") == request_id:
                return message

    try:
        send(
            {
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "raw-test", "version": "0"},
                },
            }
        )
        assert reply(1)["result"]["serverInfo"]["name"] == "r1-assistant"
        send({"method": "notifications/initialized"})
        send(
            {
                "id": 2,
                "method": "tools/call",
                "params": {"name": "search", "arguments": {"query": "duckling"}},
            }
        )
        found = reply(2)["result"]
        assert not found.get("isError") and "duckling" in found["content"][0]["text"].lower()
        send(
            {
                "id": 3,
                "method": "tools/call",
                "params": {"name": "search", "arguments": {"query": "x", "k": 99}},
            }
        )
        assert reply(3)["result"]["isError"] is True
        send({"id": 4, "method": "tools/call", "params": {"name": "no_such_tool", "arguments": {}}})
        assert "no_such_tool" in json.dumps(reply(4))
        process.stdin.close()  # the client leaves: the server ends
        assert process.wait(timeout=60) == 0
        while not lines.empty():  # anything written after the last reply is protocol too
            assert json.loads(lines.get_nowait())["jsonrpc"] == "2.0"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


async def test_streamable_http_on_loopback(docs_home: Path) -> None:
    env = {**os.environ, "ASSISTANT_HOME": str(docs_home)}
    process = subprocess.Popen(
        [*assistant_command(), "mcp", "--http", "0"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    announced: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [announced.put(line.decode()) for line in process.stderr], daemon=True
    ).start()
    try:
        url = None
        while url is None:
            line = await asyncio.to_thread(announced.get, timeout=TIMEOUT)
            if found := re.search(r"MCP server at (http://\S+/mcp) \(loopback only", line):
                url = found.group(1)
        assert url.startswith("http://127.0.0.1:")
        async with asyncio.timeout(TIMEOUT):
            async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                assert {t.name for t in (await session.list_tools()).tools} >= {"search", "read_passage"}
                result = await session.call_tool("search", {"query": "个人信息处理者的义务有哪些？", "k": 3})
                assert not result.is_error
                assert result.structured_content["passages"][0]["file"].endswith("个人信息保护法.md")
            # A page in a browser that resolves a hostile name to 127.0.0.1 is refused.
            async with httpx.AsyncClient(timeout=30) as client:
                rebound = await client.post(url, headers={"Host": "evil.example"}, json={})
            assert rebound.status_code == 421
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) is not None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


async def test_ingest_only_inside_the_allowed_folders(home: Path, tmp_path: Path) -> None:
    allowed = write_files(tmp_path / "allowed", {"birds/swans.md": english("swans")})
    secret = write_files(tmp_path / "private", {"secret.md": "# Secret\n\nThe vault code is 4711.\n"})
    os.symlink(secret / "secret.md", allowed / "linked.md")
    progress: list[tuple] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    args = ("--allow-ingest", str(allowed))
    async with (
        asyncio.timeout(TIMEOUT),
        stdio_session(home, *args, env={"ASSISTANT_EMBEDDER": "minilm"}) as session,
    ):
        assert "ingest" in {t.name for t in (await session.list_tools()).tools}
        for folder in (str(secret), str(allowed / ".." / "private")):
            refused = await session.call_tool("ingest", {"folder": folder})
            assert refused.is_error
            assert "outside the folders this server may ingest" in refused.content[0].text
        assert (await session.call_tool("list_knowledge_bases", {})).structured_content["bases"] == []
        # A link out of the folder is skipped with its reason, never read.
        whole = await session.call_tool("ingest", {"folder": str(allowed), "base": "whole"})
        assert not whole.is_error, whole.content
        skipped = {Path(f["path"]).name: f["error"] for f in whole.structured_content["files_skipped"]}
        assert "outside" in skipped["linked.md"]
        found = await session.call_tool("search", {"query": "vault code", "base": "whole", "k": 5})
        assert "4711" not in json.dumps(found.structured_content)

        report = await session.call_tool(
            "ingest", {"folder": str(allowed / "birds"), "base": "birds"}, progress_callback=on_progress
        )
        assert not report.is_error, report.content
        assert report.structured_content["files_added"] == 1
        found = await session.call_tool("search", {"query": "swans habits", "base": "birds", "k": 1})
        assert found.structured_content["passages"][0]["file"].endswith("swans.md")
        assert "4711" not in json.dumps(found.structured_content)
    assert progress and progress[-1][0] == progress[-1][1]


async def test_the_web_gets_the_query_alone_and_only_when_asked(
    docs_home: Path, searxng: FakeSearxng
) -> None:
    query = "When do mallard ducks migrate south?"
    snippet = "Mallard ducks migrate south in autumn, flying at night in V formations."
    searxng.hits = [Hit("http://192.0.2.7/mallards", "When mallards migrate", snippet)]
    env = {
        "ASSISTANT_SEARCH_ENGINE": "searxng",
        "ASSISTANT_SEARXNG_URL": searxng.url(),
        "ASSISTANT_WEB_BUDGET": "5",
    }
    async with asyncio.timeout(TIMEOUT), stdio_session(docs_home, env=env) as session:
        await session.call_tool("search", {"query": query})
        assert searxng.searches == []
        result = await session.call_tool("search", {"query": query, "web": True, "k": 6})
        assert not result.is_error
        [request] = searxng.searches
        assert request.param("q") == query
        passages = result.structured_content["passages"]
        web = next(p for p in passages if p["kind"] == "web")
        assert (web["label"], web["url"], web["text"]) == ("W1", "http://192.0.2.7/mallards", snippet)
        kb_texts = [p["text"] for p in passages if p["kind"] == "kb"]
        assert kb_texts and not any(text[:40] in request.as_text() for text in kb_texts)
        read = await session.call_tool("read_passage", {"id": web["id"]})
        assert read.structured_content["text"] == snippet
