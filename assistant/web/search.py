"""The web step of a query: search (with retries), fetch the top pages, extract their text.

The whole step runs within a time budget; pages that miss it, or cannot be fetched, fall back
to their search snippet. Failures never raise: they come back as notices so the answer can go on
from the knowledge base.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from vectorstore.plurals import counted

from .engines import RateLimitedError, SearchEngine, SearchResult, WebSearchError
from .engines.base import EngineConfigError
from .fetch import AddressPolicy, Page, fetch_all
from .injection import clean_text


@dataclass(frozen=True)
class WebOptions:
    max_results: int = 5
    #: Seconds for the whole web step (search and fetching).
    budget: float = 5.0
    max_page_bytes: int = 2_000_000
    retries: int = 2
    backoff: float = 0.5
    policy: AddressPolicy = field(default_factory=AddressPolicy)


@dataclass
class WebPage:
    result: SearchResult
    #: Extracted main text as Markdown, or None when only the snippet is available.
    page: Page | None = None
    error: str | None = None


@dataclass
class WebOutcome:
    pages: list[WebPage] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    #: The search itself failed (unreachable, rate-limited, an answer that could not be read).
    failed: bool = False


def clean_web_text(text: str) -> str:
    """Drop invisible control characters that can hide instructions from a human reader."""
    return clean_text(text)


def search_with_retries(
    engine: SearchEngine, query: str, options: WebOptions, deadline: float
) -> list[SearchResult]:
    delay = options.backoff
    for attempt in range(options.retries + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0.2:
            raise WebSearchError(f"{engine.name} search ran out of its time budget")
        try:
            return engine.search(query, options.max_results, timeout=remaining)
        except EngineConfigError:
            raise
        except WebSearchError:
            if attempt == options.retries or time.monotonic() + delay >= deadline:
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def run_web_step(
    query: str, engine: SearchEngine, options: WebOptions, *, fallback: str | None = "the knowledge base"
) -> WebOutcome:
    """Search for `query` (the user's question only) and fetch the top results' pages. A search
    that fails is a notice (saying the answer comes from `fallback`, if there is one), never an
    exception."""
    outcome = WebOutcome()
    deadline = time.monotonic() + options.budget
    then = f"; answering from {fallback}" if fallback else ""
    try:
        results = search_with_retries(engine, query, options, deadline)
    except RateLimitedError as exc:
        outcome.notices.append(f"web search unavailable: {exc}{then}")
        outcome.failed = True
        return outcome
    except WebSearchError as exc:
        outcome.notices.append(f"web search failed: {exc}{then}")
        outcome.failed = True
        return outcome
    except Exception as exc:  # an engine's answer it could not read (a changed page, garbage)
        outcome.notices.append(f"web search failed: {engine.name} gave an unreadable answer ({exc!r}){then}")
        outcome.failed = True
        return outcome
    if not results:
        outcome.notices.append(f"web search ({engine.name}) found nothing for this question")
        return outcome

    remaining = max(0.1, deadline - time.monotonic())
    fetched = asyncio.run(
        fetch_all(
            [r.url for r in results], options.policy, budget=remaining, max_bytes=options.max_page_bytes
        )
    )
    slow = 0
    for result in results:
        got = fetched.get(result.url)
        if isinstance(got, Page):
            outcome.pages.append(WebPage(result, got))
            if got.truncated:
                outcome.notices.append(
                    f"web page {result.url} is larger than the {_megabytes(options.max_page_bytes)} page "
                    "limit; only its beginning is used"
                )
        else:
            if isinstance(got, TimeoutError):
                slow += 1
            else:
                outcome.notices.append(
                    f"web page {result.url} was not used: {got}"
                    + ("; its search snippet is used instead" if result.snippet else "")
                )
            outcome.pages.append(WebPage(result, None, str(got)))
    if slow:
        outcome.notices.append(
            f"{counted(slow, 'web page')} missed the {options.budget:.0f} s budget; "
            + ("its search snippet is used" if slow == 1 else "their search snippets are used")
        )
    return outcome


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g} MB"
