"""A fake SearxNG instance speaking its JSON API (`GET /search?q=...&format=json`) over loopback.

It records every request, answers with the results a test sets, and can be told to fail: always
with one status (429 rate limit, 403 JSON disabled, 500), or the first N requests only.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from loopback import LoopbackServer, RecordedRequest, RecordingHandler


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
        #: When set, a search waits (up to 60 s) until this event is set before it answers.
        self.hold: threading.Event | None = None

    def fail_times(self, n: int, status: int = 500) -> None:
        self.failures = [status] * n

    @property
    def searches(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/search"]

    def handle_request_for(self, handler: RecordingHandler, request: RecordedRequest) -> None:
        if request.path != "/search":
            handler.reply(404, b"Not Found", "text/plain")
            return
        if self.hold is not None:
            self.hold.wait(60)
        with self.lock:
            status = self.failures.pop(0) if self.failures else self.status
        if status == 403 or (status is None and request.param("format") != "json"):
            # What SearxNG answers when `json` is not among search.formats in settings.yml.
            handler.reply(403, b"<html><body>403 Forbidden</body></html>", "text/html")
            return
        if status == 429:
            handler.reply(429, b"Too Many Requests", "text/plain")
            return
        if status is not None:
            handler.reply(status, b"<html><body>Internal Server Error</body></html>", "text/html")
            return
        query = request.param("q") or ""
        body = {
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
        handler.reply(200, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json")
