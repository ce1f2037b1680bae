"""The web search engine interface: a query in, ranked results (title, URL, snippet) out.

Only the user's question is ever sent to an engine, never knowledge-base text.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from vectorstore.errors import AssistantError


class WebSearchError(AssistantError):
    """The engine failed (after retries); the message names the engine and what to do."""


class EngineConfigError(WebSearchError):
    """The engine refuses us until its configuration changes: retrying is pointless."""


class RateLimitedError(WebSearchError):
    """The engine asked us to slow down (DuckDuckGo's "202 Ratelimit", HTTP 429)."""


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    snippet: str


@dataclass(frozen=True)
class EngineConfig:
    """What the settings say about web search; each engine reads the fields it needs."""

    searxng_url: str | None = None
    #: DuckDuckGo region (wt-wt: none).
    region: str = "wt-wt"
    #: on, moderate or off.
    safesearch: str = "moderate"


class SearchEngine(ABC):
    name: str

    @classmethod
    @abstractmethod
    def configured(cls, config: EngineConfig) -> SearchEngine:
        """The engine set up from `config`; WebSearchError names a setting that is missing."""

    @abstractmethod
    def search(self, query: str, max_results: int, timeout: float) -> list[SearchResult]:
        """One attempt; raise RateLimitedError or WebSearchError on failure."""
