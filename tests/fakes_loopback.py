"""The one loopback server every fake builds on: an HTTP/1.1 server on 127.0.0.1 and a free port,
served from a thread, that records every request it receives and answers the way real servers do
(JSON or text with a length, a chunked stream that can be cut mid-way, a body written in pieces).

A fake subclasses `LoopbackServer` and answers each request in `answer(request, response)`; tests
assert on what was sent through `requests` (method, path, query parameters, headers, body, when it
arrived). It knows nothing of any protocol: `fakes_ollama`, `fakes_openai`, `fakes_searxng` and
`fakes_pages` are the behaviour on top.

    with FakeSearxng() as server:          # or server = FakeSearxng().start() ... server.stop()
        ...  # point the code under test at server.url()
        assert server.requests[0].param("q") == "ducks"
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, unquote_plus, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    #: The raw request target, e.g. "/search?q=%E7%99%BB%E9%AB%98&format=json".
    target: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    #: The body as sent (a chunked one put back together); b"" when there was none.
    body: bytes
    #: time.monotonic() when it arrived.
    at: float

    @cached_property
    def json(self) -> Any:
        """The body parsed as JSON; None when there was none or it was not JSON."""
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError:
            return None

    def param(self, name: str) -> str | None:
        """The first value of query parameter `name`."""
        values = self.params.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        """Header `name`, whatever its case."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def as_text(self) -> str:
        """Everything that was sent, decoded as the server reads it (a query's or a form's "+" is
        a space): for "this string was never sent" checks."""
        head = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        body = self.body.decode("utf-8", errors="replace")
        form = (self.header("content-type") or "").startswith("application/x-www-form-urlencoded")
        body = unquote_plus(body) if form else unquote(body)
        return f"{self.method} {unquote_plus(self.target)}\n{head}\n\n{body}"


class Cut(Exception):
    """Raised by a fake's `answer` to drop the connection where it is (scripted, or the server is
    stopping): a stream then ends without its terminating chunk, or no response comes at all."""


class Response:
    """How a fake answers one request: a whole body (`send`, `json`, `text`), a chunked stream
    (`chunk` ... `end`), or a body of a declared length written in pieces (`start`, `write`)."""

    def __init__(self, handler: LoopbackHandler) -> None:
        self.handler = handler
        self.streaming = False

    def start(self, status: int, content_type: str, headers: dict[str, str] | None = None) -> None:
        """Send the status line and headers (add Content-Length or Transfer-Encoding to `headers`)."""
        h = self.handler
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()

    def write(self, data: bytes) -> None:
        self.handler.wfile.write(data)

    def send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.start(status, content_type, {"Content-Length": str(len(body)), **(headers or {})})
        if self.handler.command != "HEAD":
            self.write(body)

    def json(self, status: int, body: Any, content_type: str = "application/json; charset=utf-8") -> None:
        self.send(status, json.dumps(body, ensure_ascii=False).encode(), content_type)

    def text(self, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
        self.send(status, text.encode(), content_type)

    def chunk(self, data: bytes, content_type: str = "application/octet-stream") -> None:
        """One chunk of a chunked 200 response; the first one sends the headers."""
        if not self.streaming:
            self.start(200, content_type, {"Transfer-Encoding": "chunked"})
            self.streaming = True
        self.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end(self) -> None:
        """The terminating chunk of a chunked response."""
        self.write(b"0\r\n\r\n")

    def cut(self) -> None:
        """Drop the connection: what was sent so far is all the client gets."""
        self.handler.close_connection = True
        try:
            self.handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class LoopbackHandler(BaseHTTPRequestHandler):
    server: LoopbackServer
    # Keep-alive and chunked streams, as real servers speak (a cut stream is then detectable).
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as Go's net/http sets it: without it each small write waits for a delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return data
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        request = self.server.request_class(
            method=self.command,
            target=self.path,
            path=parts.path,
            params=parse_qs(parts.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=self._body(),
            at=time.monotonic(),
        )
        self.server.record(request)
        response = Response(self)
        try:
            self.server.answer(request, response)
        except Cut:
            response.cut()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            self.server.count_abandoned()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


class LoopbackServer(ThreadingHTTPServer):
    """Serves from a thread on a free loopback port: `start()`, `url()`, `stop()` (or use it as
    a context manager). Subclasses answer each recorded request in `answer(request, response)`."""

    daemon_threads = True
    #: The thread's name, for a test that lists threads.
    name = "loopback"
    #: What a request is recorded as (a fake may add accessors for its protocol's bodies).
    request_class: type[RecordedRequest] = RecordedRequest

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), LoopbackHandler)
        self.lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        #: Responses the client closed before their end.
        self.abandoned_streams = 0
        #: Set when the server stops: handlers that wait (slow pages, delayed chunks) give up.
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
        )

    def answer(self, request: RecordedRequest, response: Response) -> None:
        raise NotImplementedError

    # Where --------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def origin(self) -> str:
        """host:port, as an address policy names an allowed origin."""
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "") -> str:
        """http://127.0.0.1:PORT followed by `path`."""
        return f"http://{self.origin}{path}"

    # Lifecycle ----------------------------------------------------------------------------------

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections (idle keep-alive ones, responses in progress);
        a second call does nothing."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        if self._thread.is_alive():
            self.shutdown()
        with self.lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server_close()
        if self._thread.ident is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def process_request(self, request, client_address) -> None:
        with self.lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self.lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        # A client that went away (a size cap, a budget, a test that stopped reading) is expected;
        # anything else is a bug in the fake worth seeing.
        if not isinstance(sys.exc_info()[1], ConnectionError | OSError):
            super().handle_error(request, client_address)

    # Recording ----------------------------------------------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def count_abandoned(self) -> None:
        with self.lock:
            self.abandoned_streams += 1

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


def free_port() -> int:
    """A loopback port nothing listens on (free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"
