"""Web search engines behind one interface, by the name the `search_engine` setting uses.

Adding an engine is adding a module with a `SearchEngine` subclass (its `configured` reads what
it needs from EngineConfig) and a line in ENGINES.
"""

from __future__ import annotations

from .base import EngineConfig, RateLimitedError, SearchEngine, SearchResult, WebSearchError
from .duckduckgo import DuckDuckGoEngine
from .searxng import SearxngEngine

ENGINES: dict[str, type[SearchEngine]] = {
    "duckduckgo": DuckDuckGoEngine,
    "searxng": SearxngEngine,
}
#: Other names people use for an engine.
ALIASES = {"ddg": "duckduckgo", "ddgs": "duckduckgo"}

__all__ = [
    "ALIASES",
    "ENGINES",
    "EngineConfig",
    "RateLimitedError",
    "SearchEngine",
    "SearchResult",
    "WebSearchError",
    "make_engine",
]


def make_engine(
    name: str,
    *,
    searxng_url: str | None = None,
    region: str = "wt-wt",
    safesearch: str = "moderate",
) -> SearchEngine:
    """The engine called `name`, set up with the given settings."""
    engine = ENGINES.get(ALIASES.get(name, name))
    if engine is None:
        raise WebSearchError(
            f"unknown search engine '{name}' (ASSISTANT_SEARCH_ENGINE): use {' or '.join(ENGINES)}"
        )
    return engine.configured(EngineConfig(searxng_url=searxng_url, region=region, safesearch=safesearch))
