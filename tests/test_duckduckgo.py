"""The DuckDuckGo engine through ddgs's public API, with only the network call replaced.

ddgs's HTTP client is patched before any search: its underlying client is a stand-in that fails
name resolution as an offline machine does, and tests that need answers patch
`HttpClient.request` to return DuckDuckGo's html-endpoint pages. No test reaches the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import primp
import pytest
from ddgs.http_client import HttpClient

from assistant.web import RateLimitedError, SearchResult, WebOptions, WebSearchError, run_web_step
from assistant.web.engines import make_engine
from assistant.web.engines.duckduckgo import DuckDuckGoEngine

DNS_FAILURE = (
    "error sending request for url (https://html.duckduckgo.com/html/): client error (Connect): "
    "dns error: failed to lookup address information: Temporary failure in name resolution"
)


@dataclass
class OfflineClient:
    """Stands in for primp.Client: every request fails name resolution, as on an offline machine."""

    calls: list[tuple] = field(default_factory=list)

    def headers_update(self, headers) -> None:
        pass

    def request(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        raise primp.DNSError(DNS_FAILURE)


@dataclass
class FakeResponse:
    status_code: int
    text: str

    @property
    def content(self) -> bytes:
        return self.text.encode("utf-8")


@dataclass
class Sent:
    method: str
    url: str
    kwargs: dict


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> list[OfflineClient]:
    """Every ddgs HTTP client made in the test gets the offline stand-in (never primp's)."""
    made: list[OfflineClient] = []

    def init(self, proxy=None, timeout=10, *, verify=True) -> None:
        self.client = OfflineClient()
        made.append(self.client)

    monkeypatch.setattr(HttpClient, "__init__", init)
    return made


def result_page(results: list[tuple[str, str, str]], *, ad: bool = True) -> str:
    """DuckDuckGo's html endpoint: one `div.result__body` per result (title in h2, link and
    snippet in the `a.result__snippet` directly under it)."""
    items = []
    if ad:
        results = [("Buy ducks", "https://duckduckgo.com/y.js?ad_provider=x&u3=ad", "Sponsored")] + results
    for title, url, body in results:
        items.append(
            f"""<div class="result results_links results_links_deep web-result ">
  <div class="links_main links_deep result__body">
    <h2 class="result__title">
      <a rel="nofollow" class="result__a" href="{escape(url)}">{escape(title)}</a>
    </h2>
    <div class="result__extras"><span class="result__url">{escape(url)}</span></div>
    <a class="result__snippet" href="{escape(url)}">{body}</a>
    <div class="clear"></div>
  </div>
</div>"""
        )
    return (
        "<!DOCTYPE html><html><head><title>ducks at DuckDuckGo</title></head><body>"
        '<div id="links" class="results">' + "\n".join(items) + "</div></body></html>"
    )


@pytest.fixture
def answer(monkeypatch: pytest.MonkeyPatch):
    """Make ddgs's HTTP client answer with the given (status, html) responses, in turn."""
    sent: list[Sent] = []
    queue: list[FakeResponse] = []

    def request(self, method, url, *args, **kwargs) -> FakeResponse:
        sent.append(Sent(method, url, kwargs))
        return queue.pop(0) if len(queue) > 1 else queue[0]

    monkeypatch.setattr(HttpClient, "request", request)

    def set_answers(*responses: tuple[int, str]) -> list[Sent]:
        queue[:] = [FakeResponse(status, text) for status, text in responses]
        return sent

    return set_answers


RESULTS = [
    ("杜甫《登高》赏析", "https://poems.example/denggao", "风急天高猿啸哀，<b>渚清沙白</b>鸟飞回。"),
    ("How mallard ducks migrate", "https://birds.example/mallard", "Mallard <b>ducks</b> migrate south."),
    ("Relative link", "/relative/path", "not a full URL"),
    ("Third", "http://third.example/", "Third result body"),
]


def test_results_are_parsed_from_duckduckgo_html(answer) -> None:
    sent = answer((200, result_page(RESULTS)))
    results = DuckDuckGoEngine().search("杜甫 登高", 5, timeout=3)
    # In DuckDuckGo's order; the ad and the link that is not a full URL are dropped.
    assert results == [
        SearchResult("杜甫《登高》赏析", "https://poems.example/denggao", "风急天高猿啸哀，渚清沙白鸟飞回。"),
        SearchResult(
            "How mallard ducks migrate", "https://birds.example/mallard", "Mallard ducks migrate south."
        ),
        SearchResult("Third", "http://third.example/", "Third result body"),
    ]
    assert sent[0].method == "POST" and sent[0].url == "https://html.duckduckgo.com/html/"
    assert sent[0].kwargs["data"]["q"] == "杜甫 登高"


def test_max_results_is_respected(answer) -> None:
    answer((200, result_page([(f"R{i}", f"https://r{i}.example/", f"body {i}") for i in range(10)])))
    assert len(DuckDuckGoEngine().search("ducks", 3, timeout=3)) == 3


@pytest.mark.parametrize(("safesearch", "kp"), [("on", "1"), ("moderate", "-1"), ("off", "-2")])
def test_region_and_safesearch_reach_the_request(answer, safesearch: str, kp: str) -> None:
    sent = answer((200, result_page(RESULTS)))
    engine = make_engine("duckduckgo", region="cn-zh", safesearch=safesearch)
    engine.search("登高", 5, timeout=3)
    payload = sent[0].kwargs["data"]
    assert payload["l"] == "cn-zh"
    assert payload["kp"] == kp


def test_a_bad_safesearch_value_is_refused() -> None:
    with pytest.raises(ValueError, match="safe-search must be on, moderate or off"):
        DuckDuckGoEngine(safesearch="strict")


def test_http_202_is_a_rate_limit_retried_then_a_notice(answer) -> None:
    # DuckDuckGo's rate limit: HTTP 202 and a page without results.
    sent = answer((202, "<html><body>please slow down</body></html>"))
    with pytest.raises(RateLimitedError):
        DuckDuckGoEngine().search("ducks", 5, timeout=3)
    sent.clear()

    outcome = run_web_step("ducks", DuckDuckGoEngine(), WebOptions(retries=2, backoff=0.05, budget=5))
    assert len(sent) == 3  # the first attempt and two retries
    assert outcome.pages == []
    [notice] = outcome.notices
    assert notice.startswith("web search unavailable: DuckDuckGo") and "rate-limited" in notice


def test_a_rate_limit_that_clears_on_retry_gives_results(answer, pages) -> None:
    page = result_page([("Mallards", pages.url("/ducks"), "Mallard ducks migrate south.")])
    sent = answer((202, ""), (200, page))
    options = WebOptions(retries=2, backoff=0.05, budget=5, policy=pages.policy)
    outcome = run_web_step("ducks", DuckDuckGoEngine(), options)
    assert len(sent) == 2
    assert outcome.notices == []
    assert [p.result.url for p in outcome.pages] == [pages.url("/ducks")]
    assert outcome.pages[0].page is not None


def test_a_page_without_results_is_no_results_not_a_rate_limit(answer) -> None:
    sent = answer((200, result_page([], ad=False)))
    outcome = run_web_step("zzqx nothing", DuckDuckGoEngine(), WebOptions(retries=2, backoff=0.05))
    assert len(sent) == 1  # nothing to retry
    assert outcome.notices == ["web search (duckduckgo) found nothing for this question"]


def test_a_dns_failure_offline_is_a_notice_not_an_exception(offline: list[OfflineClient]) -> None:
    with pytest.raises(WebSearchError, match="DuckDuckGo search failed: .*dns error"):
        DuckDuckGoEngine().search("ducks", 5, timeout=3)

    outcome = run_web_step("ducks", DuckDuckGoEngine(), WebOptions(retries=1, backoff=0.05))
    assert outcome.pages == []
    [notice] = outcome.notices
    assert notice.startswith("web search failed: DuckDuckGo search failed:")
    assert "dns error" in notice and notice.endswith("answering from the knowledge base")
    assert sum(len(c.calls) for c in offline) == 3  # one attempt, then one retry; all offline
