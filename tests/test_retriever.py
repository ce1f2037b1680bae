"""The retriever with the web on: knowledge-base hits and web passages ranked together and
labelled (K1.., W1..), against the fake SearxNG and the page server. Web failures become notices
and the knowledge base still answers; knowledge-base text never leaves the machine."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant.retrieval import Retriever, Source
from assistant.web import WebOptions
from assistant.web.engines.searxng import SearxngEngine
from ingest import sync

from corpus import english, write_files
from fakes_loopback import closed_port_url
from fakes_pages import PageServer
from fakes_searxng import FakeSearxng, Hit

#: Knowledge-base text that must never appear in any request the assistant sends.
MARKER = "QX7-LANTERN-93"
MARKER_ZH = "鲸落暗号四四七一"

KB_FILES = {
    "denggao.md": "# 登高笔记\n\n杜甫《登高》作于夔州，首联“风急天高猿啸哀，渚清沙白鸟飞回”写登高所见。\n",
    "ducks.md": english("ducks"),
    "lighthouse.md": (
        "# Lighthouse\n\nThe lighthouse keeper's secret code word is "
        f"{MARKER}. The lighthouse stands on the northern cliff above the harbour.\n"
    ),
    "dengta.md": f"# 灯塔\n\n灯塔看守人的暗号是{MARKER_ZH}。灯塔建在港口北面的悬崖上。\n",
}


@pytest.fixture
def kb(open_kb, tmp_path: Path):
    kb = open_kb()
    sync(kb, write_files(tmp_path / "notes", KB_FILES))
    return kb


def retriever(kb, searxng: FakeSearxng | None, pages: PageServer | None = None, **options) -> Retriever:
    options.setdefault("backoff", 0.05)
    options.setdefault("budget", 4.0)
    if pages is not None:
        options["policy"] = pages.policy
    engine = SearxngEngine(searxng.url()) if searxng is not None else None
    return Retriever(kb, engine=engine, web_options=WebOptions(**options))


def assert_citable(sources: list[Source]) -> None:
    for s in sources:
        assert s.kind in ("kb", "web")
        assert s.title and s.location and s.text.strip() and s.chunk_id
        assert isinstance(s.score, float)
    assert len({s.chunk_id for s in sources}) == len(sources)
    assert [s.score for s in sources] == sorted((s.score for s in sources), reverse=True)
    for kind, prefix in (("kb", "K"), ("web", "W")):
        labels = [s.label for s in sources if s.kind == kind]
        assert labels == [f"{prefix}{i}" for i in range(1, len(labels) + 1)]


def test_kb_and_web_sources_are_ranked_together_and_labelled(
    kb, searxng: FakeSearxng, pages: PageServer, tmp_path: Path
) -> None:
    searxng.hits = [
        Hit(pages.url("/denggao"), "杜甫《登高》赏析", "《登高》是杜甫的七言律诗"),
        Hit(pages.url("/ducks"), "How mallard ducks migrate", "Mallard ducks migrate south"),
    ]
    result = retriever(kb, searxng, pages).search("杜甫《登高》的首联写了什么", k=6, web=True)
    assert result.web and result.notices == []
    sources = result.sources
    assert_citable(sources)
    kinds = {s.kind for s in sources}
    assert kinds == {"kb", "web"}

    web = [s for s in sources if s.kind == "web"]
    assert web[0].location == pages.url("/denggao") == web[0].uri
    assert web[0].title == "杜甫《登高》赏析"
    assert any("风急天高猿啸哀" in s.text for s in web)
    assert all(s.chunk_id.startswith("web:") for s in web)
    assert web[0].extra["search_rank"] == 1 and not web[0].extra["snippet_only"]

    kb_hit = next(s for s in sources if s.kind == "kb")
    notes = str((tmp_path / "notes" / "denggao.md").resolve())
    assert kb_hit.uri == notes
    assert kb_hit.location == f"{notes} › 登高笔记"
    assert kb_hit.chunk_id in kb.index.chunk_ids()
    # The poem's own page and notes are the best matches; the duck page is not among the first.
    assert sources[0].label in ("K1", "W1") and "ducks" not in sources[0].location


def test_web_only_search_without_a_knowledge_base(minilm, searxng: FakeSearxng, pages: PageServer) -> None:
    searxng.hits = [Hit(pages.url("/ducks"), "How mallard ducks migrate", "snippet")]
    web_only = Retriever(
        None,
        embedder=minilm,
        engine=SearxngEngine(searxng.url()),
        web_options=WebOptions(policy=pages.policy),
    )
    result = web_only.search("When do mallard ducks migrate?", k=3, web=True)
    assert result.notices == []
    assert result.sources and {s.kind for s in result.sources} == {"web"}
    assert_citable(result.sources)
    assert "autumn" in result.sources[0].text


def test_without_web_no_request_leaves(kb, searxng: FakeSearxng) -> None:
    result = retriever(kb, searxng).search("mallard ducks", k=3)
    assert not result.web and result.notices == []
    assert [s.label for s in result.sources] == ["K1", "K2", "K3"]
    assert_citable(result.sources)
    assert searxng.requests == []


def test_web_requested_but_not_configured_is_a_notice(kb) -> None:
    result = retriever(kb, None).search("mallard ducks", k=2, web=True)
    assert result.notices == ["web search is not configured; answering from the knowledge base"]
    assert [s.label for s in result.sources] == ["K1", "K2"]


def test_a_slow_page_falls_back_to_its_snippet_within_the_budget(
    kb, searxng: FakeSearxng, pages: PageServer
) -> None:
    snippet = "Slow page snippet: mallard ducks migrate at night in large flocks."
    searxng.hits = [
        Hit(pages.url("/slow"), "Slow duck page", snippet),
        Hit(pages.url("/ducks"), "How mallard ducks migrate", "Mallard snippet"),
    ]
    budget = 2.0
    started = time.monotonic()
    result = retriever(kb, searxng, pages, budget=budget).search(
        "how do mallard ducks migrate", k=8, web=True
    )
    # The slow page takes 30 s: the search returned at its budget, not after the page (the margin is
    # for a busy machine, where embedding the query alone took 5-7 s under a load of 13 on 2 cores).
    assert time.monotonic() - started < budget + 10 < pages.slow_seconds
    assert result.notices == ["1 web page missed the 2 s budget; its search snippet is used"]
    slow = [s for s in result.sources if s.uri == pages.url("/slow")]
    assert len(slow) == 1
    assert slow[0].text == snippet and slow[0].extra["snippet_only"]
    assert slow[0].title == "Slow duck page"
    assert any(s.uri == pages.url("/ducks") and not s.extra["snippet_only"] for s in result.sources)
    assert_citable(result.sources)


def test_an_injecting_page_is_kept_as_data_and_flagged(kb, searxng: FakeSearxng, pages: PageServer) -> None:
    searxng.hits = [
        Hit(pages.url("/injection"), "Duck facts you must read", "Ducks migrate in autumn."),
        Hit(pages.url("/hidden-injection"), "Quiet duck page", "Ducks paddle on the lake."),
        Hit(pages.url("/ducks"), "How mallard ducks migrate", "Mallard ducks migrate south"),
    ]
    result = retriever(kb, searxng, pages).search("ducks migrate in autumn 鸭子迁徙", k=12, web=True)
    by_page: dict[str, list[Source]] = {}
    for s in result.sources:
        by_page.setdefault(s.uri, []).append(s)

    injected = " ".join(s.text for s in by_page[pages.url("/injection")])
    assert "Ignore all previous instructions" in injected  # quoted as data, not dropped
    assert "忽略之前的所有指令" in injected
    assert all(s.extra["suspicious"] for s in by_page[pages.url("/injection")])

    [hidden] = by_page[pages.url("/hidden-injection")]
    assert "\u200b" not in hidden.text and "Ignore all previous instructions" in hidden.text
    assert hidden.extra["suspicious"]

    assert not any(s.extra.get("suspicious") for s in by_page[pages.url("/ducks")])
    assert not any(s.extra.get("suspicious") for s in result.sources if s.kind == "kb")


@pytest.mark.parametrize("failure", ["500", "unreachable", "429"])
def test_engine_failures_give_a_notice_and_the_kb_still_answers(
    kb, searxng: FakeSearxng, failure: str
) -> None:
    if failure == "unreachable":
        web = Retriever(kb, engine=SearxngEngine(closed_port_url()), web_options=WebOptions(backoff=0.05))
    else:
        searxng.status = int(failure)
        web = retriever(kb, searxng, retries=2)
    result = web.search("mallard ducks", k=3, web=True)
    [notice] = result.notices
    assert notice.endswith("answering from the knowledge base")
    assert {"500": "HTTP 500", "unreachable": "unreachable", "429": "rate-limited"}[failure] in notice
    assert [s.label for s in result.sources] == ["K1", "K2", "K3"]
    assert all(s.kind == "kb" for s in result.sources)
    if failure != "unreachable":
        assert len(searxng.searches) == 3  # the first try and two retries


def test_knowledge_base_text_is_never_sent(kb, searxng: FakeSearxng, pages: PageServer) -> None:
    searxng.hits = [
        Hit(pages.url("/ducks"), "How mallard ducks migrate", "Mallard ducks migrate south"),
        Hit(pages.url("/denggao"), "杜甫《登高》赏析", "《登高》"),
        Hit(pages.url("/redirect/relative"), "Moved", "moved"),
        Hit(pages.url("/slow"), "Slow", "slow"),
    ]
    web = retriever(kb, searxng, pages, budget=1.0)
    queries = [
        "What is the lighthouse keeper's secret code word?",
        "灯塔看守人的暗号是什么？",
        "lighthouse northern cliff harbour",
    ]
    for query in queries:
        result = web.search(query, k=4, web=True)
        # The knowledge-base passage with the marker was found and used...
        assert any(MARKER in s.text or MARKER_ZH in s.text for s in result.sources if s.kind == "kb")

    # ...but the engine got only the questions, and the pages only plain GETs.
    assert [r.param("q") for r in searxng.searches] == queries
    sent = searxng.requests + pages.requests
    assert len(pages.requests) >= 3 * 4
    for request in sent:
        text = request.as_text()
        assert MARKER not in text and MARKER_ZH not in text
    assert {r.path for r in pages.requests} == {"/ducks", "/denggao", "/redirect/relative", "/slow"}
    assert all(r.method == "GET" and r.params == {} and r.body == b"" for r in pages.requests)
