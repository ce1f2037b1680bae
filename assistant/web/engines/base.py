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


class SearchEngine(ABC):
    name: str

    @abstractmethod
    def search(self, query: str, max_results: int, timeout: float) -> list[SearchResult]:
        """One attempt; raise RateLimitedError or WebSearchError on failure."""
