"""The MCP server's tools without a subprocess: KnowledgeTools (the same results as `assistant
search --json`, passage ids that read back, clear errors for bad arguments, ingest only inside
the allowed folders) and the MCP server in-process (tool list, schemas, errors as tool errors)."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client
from typer.testing import CliRunner

from assistant.cli import app
from assistant.integrations.knowledge_tools import KnowledgeTools, ToolInputError
from assistant.integrations.mcp_server import build_server
from assistant.session import Session
from assistant.settings import load_settings

from cli_text import unboxed
from corpus import english, write_files
from fakes_searxng import FakeSearxng, Hit


def cli(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    long_chinese = "\n\n".join(f"第{i}段：数据处理者应当履行第{i}项安全保护义务。" * 12 for i in range(6))
    folder = write_files(
        tmp_path / "notes",
        {
            "ducks.md": english("ducks", 40),
            "owls.md": english("owls"),
            "denggao.md": "# 登高\n\n杜甫《登高》：风急天高猿啸哀，渚清沙白鸟飞回。\n",
            "law.md": "# 数据安全\n\n" + long_chinese + "\n",
        },
    )
    cli("--embedder", "minilm", "ingest", str(folder), "--json")
    return folder.resolve()


@pytest.fixture
def tools(notes: Path, tmp_path: Path) -> Iterator[KnowledgeTools]:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    session = Session(load_settings())
    yield KnowledgeTools(session, ingest_folders=[allowed])
    session.close()


def test_search_is_assistant_search_with_ids_that_read_back(tools: KnowledgeTools) -> None:
    for query in ("owl habits", "杜甫 登高", "数据处理者的安全保护义务"):
        expected = json.loads(cli("search", query, "--json", "-k", "4"))["hits"]
        result = tools.search(query, k=4)
        assert (result.query, result.base, result.web, result.notices) == (query, "default", False, [])
        got = [(p.label, p.chunk_id, p.title, p.location, p.text) for p in result.passages]
        assert got == [(h["label"], h["chunk_id"], h["title"], h["location"], h["text"]) for h in expected]
        assert [p.score for p in result.passages] == pytest.approx([h["score"] for h in expected])
        for passage in result.passages:
            assert passage.id == f"default:{passage.chunk_id}"
            assert passage.kind == "kb" and passage.url is None
            assert passage.location.startswith(passage.file)
            read = tools.read(passage.id, context=0)
            assert (read.text, read.title, read.location, read.file) == (
                passage.text,
                passage.title,
                passage.location,
                passage.file,
            )


def test_read_gives_the_neighbours_in_document_order(tools: KnowledgeTools, notes: Path) -> None:
    hits = tools.search("数据处理者应当履行第3项安全保护义务", k=3).passages
    middle = next(p for p in hits if p.file == str(notes / "law.md"))
    read = tools.read(middle.id, context=1)
    assert read.count >= 3 and 1 <= read.position <= read.count
    assert len(read.before) == (1 if read.position > 1 else 0)
    assert len(read.after) == (1 if read.position < read.count else 0)
    wide = tools.read(middle.id, context=5)
    assert len(wide.before) == min(5, wide.position - 1)
    assert len(wide.after) == min(5, wide.count - wide.position)
    # Neighbours are the document's other passages, each readable by its own id, in order.
    chain = [n.id for n in wide.before] + [middle.id] + [n.id for n in wide.after]
    positions = [tools.read(i, context=0).position for i in chain]
    assert positions == list(range(positions[0], positions[0] + len(chain)))


def test_a_changed_file_makes_its_old_ids_stale_with_a_clear_message(
    tools: KnowledgeTools, notes: Path
) -> None:
    [hit] = tools.search("杜甫 登高", k=1).passages
    (notes / "denggao.md").write_text("# 登高\n\n无边落木萧萧下，不尽长江滚滚来。\n", encoding="utf-8")
    cli("ingest", str(notes), "--json")
    with pytest.raises(ToolInputError, match="has no passage .* search again"):
        tools.read(hit.id)
    [fresh] = tools.search("无边落木", k=1).passages
    assert fresh.id != hit.id and "不尽长江" in tools.read(fresh.id).text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.search("   "), "query is empty"),
        (lambda t: t.search("ducks", k=0), r"k must be between 1 and 50 \(got 0\)"),
        (lambda t: t.search("ducks", k=51), r"k must be between 1 and 50 \(got 51\)"),
        (lambda t: t.search("ducks", base="nope"), r"no knowledge base named 'nope' \(known: default\)"),
        (lambda t: t.read("K1"), "'K1' is not a passage id: pass the `id` field of a search result"),
        (lambda t: t.read("nope:ab:cd:00001"), "no knowledge base named 'nope'"),
        (lambda t: t.read("default:ab:cd:00001"), "has no passage 'ab:cd:00001'"),
        (lambda t: t.read("web:0123456789abcdef0123"), "not among this server's recent searches"),
        (lambda t: t.read("default:ab:cd:00001", context=6), r"context must be between 0 and 5 \(got 6\)"),
        (lambda t: t.ingest(""), "folder is empty"),
        (lambda t: t.ingest("/"), r"/ is outside the folders this server may ingest"),
    ],
)
def test_bad_arguments_are_one_clear_error(tools: KnowledgeTools, call, message: str) -> None:
    with pytest.raises(ToolInputError, match=message):
        call(tools)


def test_search_without_the_default_base_says_how_to_search_the_web() -> None:
    session = Session(load_settings())
    try:
        with pytest.raises(ToolInputError, match="known: none yet.*or set web to true"):
            KnowledgeTools(session).search("ducks")
    finally:
        session.close()


def test_list_bases_gives_stats_and_the_default(tools: KnowledgeTools, notes: Path) -> None:
    listing = tools.list_bases()
    assert listing.default == "default"
    assert listing.ingest_folders == [str(tools.ingest_folders[0])]
    [base] = listing.bases
    assert (base.name, base.default, base.documents, base.embedder) == (
        "default",
        True,
        4,
        "sentence-transformers:all-MiniLM-L6-v2",
    )
    assert base.chunks == base.embedded_chunks > 4 and base.bytes > 0 and base.problem is None


def test_ingest_reads_only_inside_the_allowed_folders(tools: KnowledgeTools, tmp_path: Path) -> None:
    allowed = tools.ingest_folders[0]
    write_files(allowed / "inside", {"swans.md": english("swans")})
    secret = write_files(tmp_path / "private", {"secret.md": "# Secret\n\nThe vault code is 4711.\n"})

    for folder in (str(secret), str(allowed / ".." / "private"), "../private"):
        with pytest.raises(ToolInputError, match="outside the folders this server may ingest"):
            tools.ingest(folder)
    os.symlink(secret, allowed / "inside" / "linked-folder")  # folders linked out: never walked
    os.symlink(secret / "secret.md", allowed / "inside" / "secret.md")
    # A server whose settings follow links refuses before anything is written...
    following = KnowledgeTools(
        Session(dataclasses.replace(tools.session.settings, follow_links=True)), ingest_folders=[allowed]
    )
    try:
        with pytest.raises(ToolInputError, match=r"secret\.md links to .*private/secret\.md, outside"):
            following.ingest("inside", base="birds")
        assert "birds" not in tools.session.knowledge_bases()
    finally:
        following.session.close()
    # ...and by default the links out are skipped, each named with its reason, and never read.
    report = tools.ingest("inside", base="birds-first")
    skipped = {Path(p.path).name: p.error for p in report.files_skipped}
    assert set(skipped) == {"linked-folder", "secret.md"} and "outside" in skipped["secret.md"]
    assert all("4711" not in p.text for p in tools.search("vault code", base="birds-first", k=5).passages)

    (allowed / "inside" / "secret.md").unlink()
    os.symlink(allowed / "inside" / "swans.md", allowed / "inside" / "swans-again.md")  # a link inside
    seen = []
    report = tools.ingest("inside", base="birds", progress=lambda *a: seen.append(a))
    assert (report.folder, report.base) == (str(allowed / "inside"), "birds")
    assert (report.files_added, report.files_failed) == (2, [])
    assert report.chunks_added > 0 and report.chunks_embedded == report.chunks_added
    assert seen and seen[-1][0] == seen[-1][1]  # progress ends at its total
    assert [p[0] for p in seen] == sorted(p[0] for p in seen)
    assert (
        tools.search("swans habits", base="birds", k=1)
        .passages[0]
        .file.endswith(("swans.md", "swans-again.md"))
    )
    with pytest.raises(ToolInputError, match="not a valid knowledge-base name"):
        tools.ingest("inside", base="../x")


def test_ingest_is_off_without_allowed_folders(notes: Path) -> None:
    session = Session(load_settings())
    try:
        with pytest.raises(ToolInputError, match="ingest is off: start the server with"):
            KnowledgeTools(session).ingest(str(notes))
    finally:
        session.close()


def test_only_the_query_goes_to_the_web_and_web_passages_read_back(
    tools: KnowledgeTools, searxng: FakeSearxng, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_SEARCH_ENGINE", "searxng")
    monkeypatch.setenv("ASSISTANT_SEARXNG_URL", searxng.url())
    monkeypatch.setenv("ASSISTANT_WEB_BUDGET", "3")
    session = Session(load_settings())
    web_tools = KnowledgeTools(session)
    try:
        web_tools.search("owl habits", k=3)
        assert searxng.searches == []  # no web unless the call asks for it
        searxng.hits = [Hit("http://192.0.2.1/owls", "Owls at night", "Owls hunt at night, quietly.")]
        result = web_tools.search("owl habits", k=3, web=True)
    finally:
        session.close()
    [request] = searxng.searches
    assert request.param("q") == "owl habits"
    assert "Owls sentence" not in request.as_text()  # no knowledge-base text leaves
    [web] = [p for p in result.passages if p.kind == "web"]
    assert (web.label, web.url, web.file, web.id) == ("W1", "http://192.0.2.1/owls", None, web.chunk_id)
    assert web_tools.read(web.id).text == web.text == "Owls hunt at night, quietly."


# --- the MCP server, in-process -------------------------------------------------------------------
async def test_mcp_tools_their_schemas_and_errors(tools: KnowledgeTools) -> None:
    async with Client(build_server(tools)) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        assert set(listed) == {"search", "list_knowledge_bases", "read_passage", "ingest"}
        schema = listed["search"].input_schema
        assert schema["required"] == ["query"]
        assert schema["properties"]["k"]["minimum"] == 1 and schema["properties"]["k"]["maximum"] == 50
        assert set(schema["properties"]) == {"query", "base", "k", "web"}
        assert listed["search"].annotations.read_only_hint is True
        assert str(tools.ingest_folders[0]) in listed["ingest"].description

        found = await client.call_tool("search", {"query": "杜甫 登高", "k": 2})
        assert not found.is_error
        best = found.structured_content["passages"][0]
        assert (best["label"], best["title"]) == ("K1", "登高")
        assert "风急天高猿啸哀" in found.content[0].text  # the text a model reads: UTF-8, not escaped
        read = await client.call_tool("read_passage", {"id": best["id"], "context": 0})
        assert read.structured_content["text"] == best["text"]
        # `kb` is accepted for `base`, as on the command line.
        assert not (await client.call_tool("search", {"query": "ducks", "kb": "default"})).is_error

        for arguments, message in (
            ({"query": "ducks", "base": "nope"}, "no knowledge base named 'nope'"),
            ({"query": "ducks", "k": 500}, "k must be between 1 and 50 (got 500)"),
            ({"query": ""}, "query is empty"),
            ({"query": "ducks", "k": "many"}, "k"),
        ):
            failed = await client.call_tool("search", arguments)
            assert failed.is_error, arguments
            assert message in failed.content[0].text
        outside = await client.call_tool("ingest", {"folder": "/etc"})
        assert outside.is_error and "outside the folders this server may ingest" in outside.content[0].text
        # The server is still there after the errors.
        assert not (await client.call_tool("list_knowledge_bases", {})).is_error


async def test_mcp_without_allowed_folders_has_no_ingest_tool(notes: Path) -> None:
    session = Session(load_settings())
    try:
        async with Client(build_server(KnowledgeTools(session))) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == {"search", "list_knowledge_bases", "read_passage"}
            refused = await client.call_tool("ingest", {"folder": str(notes)})
            assert refused.is_error
    finally:
        session.close()


async def test_an_unexpected_failure_is_one_line_and_logged(
    tools: KnowledgeTools, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(tools.session, "search", broken)
    async with Client(build_server(tools)) as client:
        failed = await client.call_tool("search", {"query": "ducks"})
    assert failed.is_error
    text = failed.content[0].text
    assert "unexpected error: RuntimeError: disk on fire" in text and "Traceback" not in text
    assert "Traceback" in (home / "logs" / "errors.log").read_text(encoding="utf-8")


def test_the_command_refuses_a_busy_port_and_a_missing_folder_before_serving(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        busy = CliRunner().invoke(app, ["mcp", "--http", str(port)])
    assert busy.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in busy.stderr and "pick another port" in busy.stderr
    missing = CliRunner().invoke(app, ["mcp", "--allow-ingest", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2  # bad usage
    assert f"--allow-ingest {tmp_path / 'nowhere'}: not a folder" in unboxed(missing.stderr)


def test_the_command_line_loads_neither_the_mcp_sdk_nor_langchain_until_asked() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from tui.cli import cli\n"
        "app = cli.build_app()\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0 and 'mcp' in result.stdout, result.output\n"
        "result = CliRunner().invoke(app, ['mcp', '--help'])\n"
        "assert result.exit_code == 0 and '--allow-ingest' in result.stdout, result.output\n"
        "import assistant.integrations\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'langchain_core', 'uvicorn'))\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
