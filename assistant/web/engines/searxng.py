"""A SearxNG server's JSON API (`/search?q=...&format=json`)."""

from __future__ import annotations

from .base import (
    EngineConfig,
    EngineConfigError,
    RateLimitedError,
    SearchEngine,
    SearchResult,
    WebSearchError,
)


class SearxngEngine(SearchEngine):
    name = "searxng"

    def __init__(self, base_url: str, *, language: str = "auto", safesearch: int = 1) -> None:
        self.base_url = base_url.rstrip("/")
        self.language, self.safesearch = language, safesearch

    @classmethod
    def configured(cls, config: EngineConfig) -> SearxngEngine:
        if not config.searxng_url:
            raise WebSearchError(
                "the searxng engine needs ASSISTANT_SEARXNG_URL (e.g. http://127.0.0.1:8888)"
            )
        # SearxNG's safesearch levels: 0 off, 1 moderate, 2 strict.
        level = {"off": 0, "moderate": 1, "on": 2}.get(config.safesearch, 1)
        return cls(config.searxng_url, safesearch=level)

    def search(self, query: str, max_results: int, timeout: float) -> list[SearchResult]:
        import httpx  # loaded with the first web search

        try:
            response = httpx.get(
                f"{self.base_url}/search",
                params={
                    "q": query,
                    "format": "json",
                    "language": self.language,
                    "safesearch": self.safesearch,
                },
                timeout=timeout,
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise WebSearchError(f"SearxNG at {self.base_url} is unreachable: {exc}") from exc
        if response.status_code == 429:
            raise RateLimitedError(f"SearxNG at {self.base_url} rate-limited the search (HTTP 429)")
        if response.status_code == 403:
            raise EngineConfigError(
                f"SearxNG at {self.base_url} refused JSON (HTTP 403): enable `json` under "
                "search.formats in its settings.yml"
            )
        if response.status_code != 200:
            raise WebSearchError(f"SearxNG at {self.base_url} answered HTTP {response.status_code}")
        try:
            rows = response.json().get("results", [])
        except ValueError as exc:
            raise WebSearchError(f"SearxNG at {self.base_url} did not return JSON") from exc
        results = [
            SearchResult(title=r.get("title", ""), url=r.get("url", ""), snippet=r.get("content", "") or "")
            for r in rows
            if str(r.get("url", "")).startswith(("http://", "https://"))
        ]
        return results[:max_results]
