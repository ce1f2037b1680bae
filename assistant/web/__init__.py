"""Live web search: engines, safe page fetching, and the time-bounded web step of a query.

Names are loaded on first use (PEP 562): a search of the knowledge base alone imports no HTTP
client and no engine.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AddressPolicy": "addresses",
    "FetchRefused": "fetch",
    "RateLimitedError": "engines",
    "SearchEngine": "engines",
    "SearchResult": "engines",
    "WebSearchError": "engines",
    "make_engine": "engines",
    "looks_like_injection": "injection",
    "WebOptions": "search",
    "WebOutcome": "search",
    "WebPage": "search",
    "run_web_step": "search",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
