"""DuckDuckGo's html endpoint through the `ddgs` library's DuckDuckGo engine (region and safe-search).

We call ddgs's engine class rather than its `DDGS` metasearch front: the front's DuckDuckGo engine
never sends the safe-search setting, and it reports a rate limit (HTTP 202, an empty page) and a
query with no results alike, as "No results found".
"""

from __future__ import annotations

from functools import cache

from .base import EngineConfig, RateLimitedError, SearchEngine, SearchResult, WebSearchError

#: DuckDuckGo's `kp` parameter for each safe-search setting.
SAFESEARCH_KP = {"on": "1", "moderate": "-1", "off": "-2"}


class DuckDuckGoEngine(SearchEngine):
    name = "duckduckgo"

    def __init__(self, *, region: str = "wt-wt", safesearch: str = "moderate") -> None:
        if safesearch not in SAFESEARCH_KP:
            raise ValueError(f"safe-search must be on, moderate or off, not '{safesearch}'")
        self.region, self.safesearch = region, safesearch

    @classmethod
    def configured(cls, config: EngineConfig) -> DuckDuckGoEngine:
        return cls(region=config.region, safesearch=config.safesearch)

    def search(self, query: str, max_results: int, timeout: float) -> list[SearchResult]:
        from ddgs.exceptions import DDGSException, TimeoutException

        engine = _html_engine()(timeout=max(1, round(timeout)))
        try:
            rows = engine.search(query, region=self.region, safesearch=self.safesearch)
        except TimeoutException as exc:
            raise WebSearchError(f"DuckDuckGo did not answer in time ({exc})") from exc
        except DDGSException as exc:
            raise WebSearchError(f"DuckDuckGo search failed: {exc}") from exc
        if rows is None:
            # ddgs returns None for any answer but HTTP 200; DuckDuckGo's rate limit is a 202.
            raise RateLimitedError("DuckDuckGo rate-limited the search (it answered without a result page)")
        results = [
            SearchResult(title=r.title, url=r.href, snippet=r.body)
            for r in rows
            if r.href.startswith(("http://", "https://"))
        ]
        return results[:max_results]


@cache
def _html_engine():
    from ddgs.engines.duckduckgo import Duckduckgo

    class HtmlDuckDuckGo(Duckduckgo):
        """ddgs's engine plus the safe-search parameter it leaves out."""

        def build_payload(self, query, region, safesearch, timelimit, page=1, **kwargs):
            payload = super().build_payload(query, region, safesearch, timelimit, page, **kwargs)
            payload["kp"] = SAFESEARCH_KP[safesearch]
            return payload

    return HtmlDuckDuckGo
