"""Live web search: engines, safe page fetching, and the time-bounded web step of a query."""

from .addresses import AddressPolicy
from .engines import RateLimitedError, SearchEngine, SearchResult, WebSearchError, make_engine
from .fetch import FetchRefused
from .injection import looks_like_injection
from .search import WebOptions, WebOutcome, WebPage, run_web_step

__all__ = [
    "AddressPolicy",
    "FetchRefused",
    "RateLimitedError",
    "SearchEngine",
    "SearchResult",
    "WebOptions",
    "WebOutcome",
    "WebPage",
    "WebSearchError",
    "looks_like_injection",
    "make_engine",
    "run_web_step",
]
