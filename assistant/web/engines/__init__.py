"""Web search engines behind one interface; `make_engine` picks one from settings."""

from __future__ import annotations

from .base import RateLimitedError, SearchEngine, SearchResult, WebSearchError

__all__ = ["RateLimitedError", "SearchEngine", "SearchResult", "WebSearchError", "make_engine"]


def make_engine(
    name: str,
    *,
    searxng_url: str | None = None,
    region: str = "wt-wt",
    safesearch: str = "moderate",
) -> SearchEngine:
    if name in ("duckduckgo", "ddg", "ddgs"):
        from .duckduckgo import DuckDuckGoEngine

        return DuckDuckGoEngine(region=region, safesearch=safesearch)
    if name == "searxng":
        if not searxng_url:
            raise WebSearchError(
                "the searxng engine needs ASSISTANT_SEARXNG_URL (e.g. http://127.0.0.1:8888)"
            )
        from .searxng import SearxngEngine

        return SearxngEngine(searxng_url, safesearch={"off": 0, "moderate": 1, "on": 2}.get(safesearch, 1))
    raise WebSearchError(f"unknown search engine '{name}': use duckduckgo or searxng")
