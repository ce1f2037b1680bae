"""A fake SearxNG instance speaking its JSON API (`GET /search?q=...&format=json`) over loopback.

It answers with the results a test sets (`hits`), and can be told to fail: always with one status
(429 rate limit, 403 JSON disabled, 500), or the first N requests only; or answer garbage.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from fakes_loopback import LoopbackServer, RecordedRequest, Response


@dataclass(frozen=True)
class Hit:
    url: str
    title: str
    content: str


class FakeSearxng(LoopbackServer):
    name = "fake-searxng"

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[Hit] = []
        #: Answer every search with this status instead of results.
        self.status: int | None = None
        #: Statuses for the next requests, one each, before answering normally.
        self.failures: list[int] = []
        #: Answer every search with this body (status 200, JSON's type) instead of results.
        self.garbage: str | None = None
        #: When set, a search waits (up to 60 s) until this event is set before it answers.
        self.hold: threading.Event | None = None

    def fail_times(self, n: int, status: int = 500) -> None:
        self.failures = [status] * n

    @property
    def searches(self) -> list[RecordedRequest]:
        return self.requests_to("/search")

    def answer(self, request: RecordedRequest, response: Response) -> None:
        if request.path != "/search":
            response.text(404, "Not Found")
            return
        if self.hold is not None:
            self.hold.wait(60)
        with self.lock:
            status = self.failures.pop(0) if self.failures else self.status
        if status == 403 or (status is None and request.param("format") != "json"):
            # What SearxNG answers when `json` is not among search.formats in settings.yml.
            response.text(403, "<html><body>403 Forbidden</body></html>", "text/html")
        elif status == 429:
            response.text(429, "Too Many Requests")
        elif status is not None:
            response.text(status, "<html><body>Internal Server Error</body></html>", "text/html")
        elif self.garbage is not None:
            response.text(200, self.garbage, "application/json")
        else:
            response.json(200, self._results(request.param("q") or ""), "application/json")

    def _results(self, query: str) -> dict:
        return {
            "query": query,
            "number_of_results": len(self.hits),
            "results": [
                {
                    "url": hit.url,
                    "title": hit.title,
                    "content": hit.content,
                    "engine": "fake",
                    "engines": ["fake"],
                    "positions": [rank],
                    "score": 1.0 / rank,
                    "category": "general",
                }
                for rank, hit in enumerate(self.hits, start=1)
            ],
            "answers": [],
            "corrections": [],
            "infoboxes": [],
            "suggestions": [],
            "unresponsive_engines": [],
        }
