"""`assistant search`: the table, --json fields, --queries FILE, clear errors, and --web against
the fake SearxNG (loopback pages fetched only with ASSISTANT_ALLOW_PRIVATE_URLS=1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from assistant.cli import app
from assistant.components import web_options
from assistant.settings import load_settings

from cli_text import printed_sources, unboxed
from corpus import english, write_files
from fakes_pages import PageServer
from fakes_searxng import FakeSearxng, Hit
from printed_table import compact

HIT_FIELDS = {"kind", "label", "title", "location", "text", "score", "chunk_id"}


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = write_files(
        tmp_path / "notes",
        {
            "ducks.md": english("ducks"),
            "owls.md": english("owls"),
            "denggao.md": "# 登高\n\n杜甫《登高》：风急天高猿啸哀，渚清沙白鸟飞回。\n",
        },
    )
    result = run("--embedder", "minilm", "ingest", str(folder), "--json")
    assert result.exit_code == 0, result.output
    return folder.resolve()


def web_env(searxng: FakeSearxng, **extra: str) -> dict[str, str]:
    return {
        "ASSISTANT_SEARCH_ENGINE": "searxng",
        "ASSISTANT_SEARXNG_URL": searxng.url(),
        "ASSISTANT_WEB_BUDGET": "3",
        **extra,
    }


def test_search_prints_labelled_sources_with_their_paths_and_best_sentences(notes: Path) -> None:
    result = run("search", "owl habits", "-k", "2")
    assert result.exit_code == 0, result.output
    headings = [line for line in result.stdout.splitlines() if line[:1] in ("K", "W")]
    assert [h.split()[0] for h in headings] == ["K1", "K2"]
    # Paths relative to the ingested folder, its name first (as ripgrep shows them).
    assert headings[0].split()[1] == "notes/owls.md"
    assert str(notes) not in result.stdout
    # A sentence holding the query's words (wrapped where the terminal is narrow).
    assert "habits of number" in " ".join(result.stdout.split())
    assert "score" not in result.stdout.lower()


def test_search_json_has_every_citation_field(notes: Path) -> None:
    result = run("search", "风急天高", "--json", "-k", "3")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["query"], data["web"], data["notices"]) == ("风急天高", False, [])
    hits = data["hits"]
    assert 1 <= len(hits) <= 3
    for hit in hits:
        assert HIT_FIELDS <= set(hit)
    best = hits[0]
    assert (best["kind"], best["label"], best["title"]) == ("kb", "K1", "登高")
    assert best["location"] == f"{notes / 'denggao.md'} › 登高"
    assert best["path"] == "notes/denggao.md"
    assert "风急天高猿啸哀" in best["text"]
    assert isinstance(best["score"], float) and best["chunk_id"]


def test_queries_file_prints_one_json_line_per_query(notes: Path, tmp_path: Path) -> None:
    queries = tmp_path / "queries.txt"
    queries.write_text("owl habits\n\n  ducks  \n杜甫 登高\n", encoding="utf-8")
    result = run("search", "--queries", str(queries), "-k", "2")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["owl habits", "ducks", "杜甫 登高"]
    for line in lines:
        assert len(line["hits"]) == 2
        assert all(HIT_FIELDS <= set(hit) for hit in line["hits"])
    assert lines[0]["hits"][0]["location"].startswith(str(notes / "owls.md"))
    assert lines[2]["hits"][0]["title"] == "登高"


def test_no_knowledge_base_and_no_web_is_one_clear_error() -> None:
    result = run("search", "ducks")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: no knowledge base named 'default' (there are none yet); create it with "
        "`assistant ingest PATH --kb default`, or search the web alone with --web"
    ]


def test_query_and_queries_file_are_exclusive(tmp_path: Path) -> None:
    queries = tmp_path / "q.txt"
    queries.write_text("ducks\n")
    for args in (("search",), ("search", "ducks", "--queries", str(queries))):
        result = run(*args)
        assert result.exit_code == 2  # bad usage
        assert "give a QUERY or --queries FILE" in result.stderr
    missing = run(
        "search", "--queries", str(tmp_path / "none.txt"), "--web", env={"ASSISTANT_EMBEDDER": "minilm"}
    )
    assert missing.exit_code == 2
    assert f"{tmp_path / 'none.txt'} is not a file" in unboxed(missing.stderr)
    undecodable = tmp_path / "latin1.txt"
    undecodable.write_bytes("caf\xe9\n".encode("latin-1"))
    unreadable = run("search", "--queries", str(undecodable), "--web", env={"ASSISTANT_EMBEDDER": "minilm"})
    assert unreadable.exit_code == 1
    assert f"cannot read queries from {undecodable}" in unreadable.stderr


def test_a_missing_reranker_model_is_named_and_costs_only_the_reranking(notes: Path, tmp_path: Path) -> None:
    model = tmp_path / "no-such-reranker"
    plain = run("search", "ducks", "--json")
    result = run("search", "ducks", "--json", env={"ASSISTANT_RERANKER": str(model)})
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    [notice] = data["notices"]
    assert f"could not load reranker '{model}'" in notice and notice.endswith("results in fused order")
    assert [h["chunk_id"] for h in data["hits"]] == [h["chunk_id"] for h in json.loads(plain.stdout)["hits"]]


def test_web_search_refuses_loopback_pages_by_default_and_uses_snippets(
    notes: Path, searxng: FakeSearxng, pages: PageServer
) -> None:
    searxng.hits = [Hit(pages.url("/ducks"), "How mallard ducks migrate", "Mallards fly south in autumn.")]
    result = run("search", "mallard ducks migrate", "--web", "--json", env=web_env(searxng))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["web"] is True
    assert data["notices"] == [
        f"web page {pages.url('/ducks')} was not used: 127.0.0.1 resolves to the non-public address "
        "127.0.0.1; refused (set ASSISTANT_ALLOW_PRIVATE_URLS=1 to allow); its search snippet is used instead"
    ]
    assert searxng.searches[0].param("q") == "mallard ducks migrate"
    [web] = [h for h in data["hits"] if h["kind"] == "web"]
    assert (web["label"], web["location"], web["text"]) == (
        "W1",
        pages.url("/ducks"),
        "Mallards fly south in autumn.",
    )
    assert any(h["label"] == "K1" for h in data["hits"])
    assert pages.requests == []  # 127.0.0.1 was refused before connecting


def test_allow_private_urls_lets_the_cli_fetch_the_loopback_page_server(
    notes: Path, searxng: FakeSearxng, pages: PageServer
) -> None:
    searxng.hits = [
        Hit(pages.url("/ducks"), "How mallard ducks migrate", "snippet"),
        Hit(pages.url("/injection"), "Duck facts you must read", "snippet"),
    ]
    env = web_env(searxng, ASSISTANT_ALLOW_PRIVATE_URLS="1")
    result = run("search", "mallard ducks migrate", "--web", "--json", "-k", "8", env=env)
    assert result.exit_code == 0, result.output
    web = [h for h in json.loads(result.stdout)["hits"] if h["kind"] == "web"]
    assert any("Mallard ducks migrate south in autumn" in h["text"] for h in web)
    assert sorted(pages.paths()) == ["/ducks", "/injection"]

    table = run("search", "ignore previous instructions ducks", "--web", "-k", "8", env=env)
    assert table.exit_code == 0, table.output
    shown = printed_sources(table.stdout)
    assert "W1" in shown
    assert any("⚠instructions?" in compact(block) for block in shown.values())  # the injection warning


def test_web_only_search_and_engine_failure_notice(searxng: FakeSearxng, pages: PageServer) -> None:
    searxng.hits = [Hit(pages.url("/denggao"), "杜甫《登高》赏析", "《登高》是杜甫的七言律诗。")]
    env = web_env(searxng, ASSISTANT_EMBEDDER="minilm", ASSISTANT_ALLOW_PRIVATE_URLS="1")
    result = run("search", "杜甫 登高", "--web", "--json", "-k", "3", env=env)
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)["hits"]
    assert hits and {h["kind"] for h in hits} == {"web"}
    assert hits[0]["label"] == "W1" and hits[0]["location"] == pages.url("/denggao")

    searxng.status = 500
    failed = run("search", "杜甫 登高", "--web", env=env)
    # The web was the only part asked for: nothing is left, and the error says why.
    assert failed.exit_code == 1
    assert "web search failed: SearxNG at" in failed.stderr
    assert not failed.stdout.strip()


def test_searxng_without_its_url_is_a_clear_notice_and_kb_search_goes_on(notes: Path) -> None:
    env = {"ASSISTANT_SEARCH_ENGINE": "searxng"}
    result = run("search", "ducks", "--web", env=env)
    assert result.exit_code == 0
    assert "notice: web search is not available" in result.stderr
    assert "ASSISTANT_SEARXNG_URL" in result.stderr
    assert "K1" in result.stdout  # the knowledge-base results are still there
    assert run("search", "ducks", env=env).exit_code == 0  # a KB-only search never builds the engine


def test_web_settings_reach_the_web_options(tmp_path: Path) -> None:
    defaults = load_settings(environ={"ASSISTANT_HOME": str(tmp_path)})
    assert (defaults.search_engine, defaults.safesearch, defaults.allow_private_urls) == (
        "duckduckgo",
        "moderate",
        False,
    )
    env = {
        "ASSISTANT_HOME": str(tmp_path),
        "ASSISTANT_WEB_RESULTS": "3",
        "ASSISTANT_WEB_BUDGET": "2.5",
        "ASSISTANT_ALLOW_PRIVATE_URLS": "yes",
    }
    options = web_options(load_settings(environ=env), allowed_origins=frozenset({"127.0.0.1:1"}))
    assert (options.max_results, options.budget) == (3, 2.5)
    assert options.policy.allow_private and options.policy.allowed_origins == {"127.0.0.1:1"}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ASSISTANT_SEARCH_ENGINE", "bing", "'bing' is not duckduckgo or searxng"),
        ("ASSISTANT_SAFESEARCH", "strict", "'strict' is not on, moderate or off"),
        ("ASSISTANT_ALLOW_PRIVATE_URLS", "maybe", "ASSISTANT_ALLOW_PRIVATE_URLS: 'maybe' is not a yes/no"),
        ("ASSISTANT_WEB_BUDGET", "0", "ASSISTANT_WEB_BUDGET: '0' is not a number from 0.5 to 600"),
        ("ASSISTANT_WEB_RESULTS", "many", "ASSISTANT_WEB_RESULTS: 'many' is not a whole number"),
    ],
)
def test_bad_web_settings_are_clear_errors(variable: str, value: str, message: str) -> None:
    result = run("search", "ducks", "--web", env={variable: value})
    assert result.exit_code == 1
    assert message in result.stderr
