"""A fake Ollama server speaking the real `/api/embed` protocol over loopback.

Its vectors are a hashed bag of words, so a knowledge base of hundreds of chunks is built in
milliseconds through the same `ollama:MODEL` embedder users run. Texts sharing words get close
vectors, which is enough to check that search finds what was ingested.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIMENSION = 64
#: A model name the fake does not have, for "model not pulled" errors.
MISSING_MODEL = "not-pulled"

_WORD = re.compile(r"[\u4e00-\u9fff]|\w+")


def hashed_vector(text: str, dimension: int = DIMENSION) -> list[float]:
    vector = [0.0] * dimension
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dimension
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


class _Handler(BaseHTTPRequestHandler):
    server: FakeOllamaServer

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/api/version":
            self._reply(200, {"version": "0.0.0-fake"})
        elif self.path == "/api/tags":
            self._reply(200, {"models": []})
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/api/embed":
            self._reply(404, {"error": "not found"})
            return
        model = request.get("model", "")
        if model == MISSING_MODEL:
            self._reply(404, {"error": f'model "{model}" not found, try pulling it first'})
            return
        texts = request.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        with self.server.lock:
            self.server.embed_calls += 1
            self.server.texts_embedded += len(texts)
        self._reply(200, {"model": model, "embeddings": [hashed_vector(t) for t in texts]})


class FakeOllamaServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.embed_calls = 0
        self.texts_embedded = 0
        self._thread = threading.Thread(target=self.serve_forever, name="fake-ollama", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeOllamaServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
