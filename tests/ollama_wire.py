"""The wire under the fake Ollama: an HTTP/1.1 server on 127.0.0.1 that records every request and
answers the way Go's net/http does (JSON, text, or a chunked NDJSON stream that can be cut
mid-way). It knows nothing of models: `fake_ollama.FakeOllamaServer` is the behaviour on top."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    #: The parsed JSON body (None when there was none or it was not JSON).
    body: Any
    #: time.monotonic() when it arrived.
    at: float

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def _get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default) if isinstance(self.body, dict) else default

    @property
    def model(self) -> str | None:
        return self._get("model")

    @property
    def messages(self) -> list[dict]:
        return self._get("messages") or []

    @property
    def options(self) -> dict:
        return self._get("options") or {}

    @property
    def think(self) -> bool | str | None:
        """The `think` field as sent; None when it was left out."""
        return self._get("think")

    @property
    def stream(self) -> bool:
        return self._get("stream") is not False

    @property
    def prompt(self) -> str:
        """The content of the last user message."""
        users = [m for m in self.messages if m.get("role") == "user"]
        return str(users[-1].get("content") or "") if users else ""

    @property
    def history(self) -> list[dict]:
        """Every message before the last one."""
        return self.messages[:-1]


class Cut(Exception):
    """The fake closes the connection mid-response (scripted, or the server is stopping)."""


class Exchange:
    """One request being answered: plain JSON, text, or a chunked NDJSON stream."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.streaming = False

    def send(self, status: int, body: bytes, content_type: str) -> None:
        h = self.handler
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def json(self, status: int, body: Any) -> None:
        self.send(status, json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def error(self, status: int, message: str) -> None:
        self.json(status, {"error": message})

    def text(self, status: int, text: str) -> None:
        self.send(status, text.encode(), "text/plain; charset=utf-8")

    def line(self, obj: Any) -> None:
        """One NDJSON line; the first one sends the headers (Go's net/http streams chunked)."""
        h = self.handler
        if not self.streaming:
            h.send_response(200)
            h.send_header("Content-Type", "application/x-ndjson")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            self.streaming = True
        data = json.dumps(obj, ensure_ascii=False).encode() + b"\n"
        h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end(self) -> None:
        self.handler.wfile.write(b"0\r\n\r\n")

    def cut(self) -> None:
        """Drop the connection: a stream stops without its terminating chunk."""
        self.handler.close_connection = True
        try:
            self.handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Handler(BaseHTTPRequestHandler):
    server: WireServer
    # Keep-alive and chunked streams, like Go's net/http (a cut stream is then detectable).
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as Go sets it: without it each small write waits for the client's delayed ACK.
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
        raw = self._body()
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = None
        request = RecordedRequest(
            method=self.command,
            path=self.path.split("?", 1)[0],
            headers=dict(self.headers.items()),
            raw=raw,
            body=body,
            at=time.monotonic(),
        )
        self.server.record(request)
        exchange = Exchange(self)
        try:
            self.server.answer(request, exchange)
        except Cut:
            exchange.cut()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            self.server.count_abandoned()

    do_GET = do_POST = do_DELETE = do_HEAD = _handle


class WireServer(ThreadingHTTPServer):
    """Serves from a thread on a free port: `start()`, `.url`, `stop()` (or a context manager).
    Subclasses answer each recorded request in `answer(request, out)`."""

    daemon_threads = True
    name = "wire"

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        #: Streams the client closed before the end.
        self.abandoned_streams = 0
        self.requests: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        #: Set when the server stops: delayed replies give up.
        self.stopping = threading.Event()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
        )

    def answer(self, request: RecordedRequest, out: Exchange) -> None:
        raise NotImplementedError

    # Lifecycle ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> WireServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections (idle keep-alive ones, streams in progress)."""
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

    def __enter__(self) -> WireServer:
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
        # A client that went away is expected; anything else is a bug in the fake worth seeing.
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
