"""A threaded HTTP server on 127.0.0.1 that records every request it receives.

The fake search engine and the page server build on it, so tests can assert what was sent
(path, query parameters, headers, body) and can stop slow handlers when the test ends.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    #: The raw request target, e.g. "/search?q=%E7%99%BB%E9%AB%98&format=json".
    target: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    #: time.monotonic() when it arrived.
    at: float

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None

    def as_text(self) -> str:
        """Everything that was sent, percent-decoded: for "this string was never sent" checks."""
        head = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        body = unquote(self.body.decode("utf-8", errors="replace"))
        return f"{self.method} {unquote(self.target)}\n{head}\n\n{body}"


class RecordingHandler(BaseHTTPRequestHandler):
    server: LoopbackServer

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _record(self) -> RecordedRequest:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            target=self.path,
            path=parts.path,
            params=parse_qs(parts.query, keep_blank_values=True),
            headers={k: v for k, v in self.headers.items()},
            body=body,
            at=time.monotonic(),
        )
        with self.server.lock:
            self.server.requests.append(request)
        return request

    def do_GET(self) -> None:
        self.server.handle_request_for(self, self._record())

    def do_POST(self) -> None:
        self.server.handle_request_for(self, self._record())

    def reply(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    name = "loopback"

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        #: Set when the server stops: handlers that wait (slow pages) give up.
        self.stopping = threading.Event()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
        )

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def origin(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "") -> str:
        return f"http://{self.origin}{path}"

    def handle_request_for(self, handler: RecordingHandler, request: RecordedRequest) -> None:
        raise NotImplementedError

    def handle_error(self, request, client_address) -> None:
        # Clients that stop reading (size caps, budgets) break the pipe: expected here.
        pass

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


def free_port() -> int:
    """A loopback port nothing listens on (free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


@contextmanager
def served_process(
    command: list[str], ready_url: str, *, timeout: float, name: str, log=subprocess.DEVNULL
) -> Iterator[subprocess.Popen]:
    """Run a real server process until `ready_url` answers 200 (bounded by `timeout`), then stop
    it when the block ends; fail the test, naming the server, if it exits or never answers."""
    import httpx
    import pytest

    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}")
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer {ready_url} within {timeout:.0f} s")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@contextmanager
def chroma_process(folder: Path, port: int | None = None) -> Iterator[str]:
    """A real `chroma run` on loopback, its data and log under `folder`, until the block ends;
    yields its URL. `port` None: a free one."""
    import pytest

    chroma = shutil.which("chroma") or shutil.which("chroma", path=str(Path(sys.executable).parent))
    if chroma is None:
        pytest.fail("the `chroma` command is not installed (it comes with the chromadb package)")
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with (
        (folder / "server.log").open("w") as log,
        served_process(
            [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(folder / "db")],
            f"{url}/api/v2/heartbeat",
            timeout=60,
            name=f"chroma run (its log: {folder / 'server.log'})",
            log=log,
        ),
    ):
        yield url
