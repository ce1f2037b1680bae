"""DuckDuckGo through the `ddgs` metasearch library (region and safe-search settings)."""

from __future__ import annotations

from .base import RateLimitedError, SearchEngine, SearchResult, WebSearchError


class DuckDuckGoEngine(SearchEngine):
    name = "duckduckgo"

    def __init__(
        self, *, region: str = "wt-wt", safesearch: str = "moderate", backend: str = "duckduckgo"
    ) -> None:
        if safesearch not in ("on", "moderate", "off"):
            raise ValueError(f"safe-search must be on, moderate or off, not '{safesearch}'")
        self.region, self.safesearch, self.backend = region, safesearch, backend

    def search(self, query: str, max_results: int, timeout: float) -> list[SearchResult]:
        from ddgs import DDGS
        from ddgs.exceptions import DDGSException, RatelimitException, TimeoutException

        try:
            rows = DDGS(timeout=max(1, round(timeout))).text(
                query,
                region=self.region,
                safesearch=self.safesearch,
                max_results=max_results,
                backend=self.backend,
            )
        except RatelimitException as exc:
            raise RateLimitedError(f"DuckDuckGo rate-limited the search ({exc})") from exc
        except TimeoutException as exc:
            raise WebSearchError(f"DuckDuckGo did not answer in time ({exc})") from exc
        except DDGSException as exc:
            # DuckDuckGo answers a rate limit with HTTP 202 and an empty page, which ddgs reports
            # as "No results found": treat it as a rate limit so it is retried with backoff.
            if "no results" in str(exc).lower():
                raise RateLimitedError("DuckDuckGo returned no results (possibly rate-limited)") from exc
            raise WebSearchError(f"DuckDuckGo search failed: {exc}") from exc
        return [
            SearchResult(title=r.get("title", ""), url=r.get("href", ""), snippet=r.get("body", ""))
            for r in rows
            if r.get("href", "").startswith(("http://", "https://"))
        ]
