"""Servers the benchmarks start on loopback: a real `chroma run`, and a scripted Ollama.

The tests have fuller doubles (tests/fakes_ollama*.py check every field of the wire); a benchmark
needs only a server that answers fast and the same way every time, and must not import the tests.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np


def free_port() -> int:
    """A loopback port nothing listens on (free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def chroma_process(folder: Path, port: int | None = None, timeout: float = 60) -> Iterator[str]:
    """A real `chroma run` on loopback, its data and log under `folder`, until the block ends;
    yields its URL."""
    import httpx

    chroma = shutil.which("chroma") or shutil.which("chroma", path=str(Path(sys.executable).parent))
    if chroma is None:
        raise SystemExit("the `chroma` command is not installed (it comes with the chromadb package)")
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(folder / "db")]
    with (folder / "server.log").open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"chroma run did not start (its log: {folder / 'server.log'})")
                try:
                    if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclass
class ScriptedOllama:
    """An Ollama server on loopback (`/api/tags`, `/api/show`, `/api/ps`, `/api/chat` streamed as
    NDJSON, `/api/embed`) that answers every chat with `reasoning` then `answer`, one token (a
    word or a CJK character) per line, and embeds any text as a fixed unit vector of its hash."""

    model: str = "deepseek-r1:7b"
    reasoning: str = ""
    answer: str = "OK"
    dimension: int = 1024
    #: Every /api/embed request's number of inputs, in order.
    embed_batches: list[int] = field(default_factory=list)

    def __enter__(self) -> ScriptedOllama:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def info(self) -> dict:
        details = {
            "format": "gguf",
            "family": "qwen2",
            "parameter_size": "7.6B",
            "quantization_level": "Q4_K_M",
        }
        return {
            "name": self.model,
            "model": self.model,
            "modified_at": "2025-01-01T00:00:00Z",
            "size": 4_683_087_332,
            "digest": hashlib.sha256(self.model.encode()).hexdigest(),
            "details": details,
        }

    def show(self) -> dict:
        return {
            "template": "{{ .Prompt }}",
            "parameters": "",
            "details": self.info()["details"],
            "model_info": {"general.architecture": "qwen2", "qwen2.context_length": 131072},
            "capabilities": ["completion", "thinking"],
        }

    def vector(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        v = np.random.default_rng(seed).standard_normal(self.dimension)
        return (v / np.linalg.norm(v)).tolist()


def tokens(text: str) -> list[str]:
    """The pieces a scripted reply is streamed in: CJK characters and words with their spaces."""
    out: list[str] = []
    for ch in text:
        if (
            out
            and not ("\u4e00" <= ch <= "\u9fff")
            and not ("\u4e00" <= out[-1][-1] <= "\u9fff")
            and ch != " "
        ):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _handler(server: ScriptedOllama) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"ollama": server})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: The scripted server whose answers this handler gives.
    ollama: ScriptedOllama

    def log_message(self, *args: object) -> None:
        pass

    def _json(self, body: object, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/api/tags":
            self._json({"models": [self.ollama.info()]})
        elif self.path == "/api/ps":
            self._json({"models": []})
        else:
            self._json({"error": "not found"}, 404)

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path == "/api/show":
            self._json(self.ollama.show())
        elif self.path == "/api/embed":
            texts = body.get("input", [])
            texts = [texts] if isinstance(texts, str) else texts
            self.ollama.embed_batches.append(len(texts))
            self._json({"model": body.get("model"), "embeddings": [self.ollama.vector(t) for t in texts]})
        elif self.path == "/api/chat":
            self._stream(body)
        else:
            self._json({"error": "not found"}, 404)

    def _stream(self, body: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        think = body.get("think", True) is not False
        pieces = [("thinking", t) for t in tokens(self.ollama.reasoning) if think]
        pieces += [("content", t) for t in tokens(self.ollama.answer)]
        for kind, text in pieces:
            message = {"role": "assistant", "content": "", kind: text}
            self._chunk(
                {
                    "model": self.ollama.model,
                    "created_at": "2025-01-01T00:00:00Z",
                    "message": message,
                    "done": False,
                }
            )
        final = {
            "model": self.ollama.model,
            "created_at": "2025-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "total_duration": 1_000_000_000,
            "load_duration": 1_000_000,
            "prompt_eval_count": 100,
            "prompt_eval_duration": 100_000_000,
            "eval_count": len(pieces),
            "eval_duration": 900_000_000,
        }
        self._chunk(final)
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, obj: dict) -> None:
        data = json.dumps(obj, ensure_ascii=False).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
