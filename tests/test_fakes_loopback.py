"""The loopback server every fake builds on, tested once: what it records, how it answers (whole,
chunked, cut), and that it starts on a free port and stops promptly. The fakes' own tests check
only their protocol (tests/test_fake_ollama.py; the others through the code that uses them)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from fakes_loopback import Cut, LoopbackServer, RecordedRequest, Response, closed_port_url


class Scripted(LoopbackServer):
    """Answers by path: /json, /text, /stream (three chunks), /cut-stream (one chunk, then the
    connection drops), /cut (drops it before answering), /slow (chunks until the server stops)."""

    name = "scripted"

    def answer(self, request: RecordedRequest, response: Response) -> None:
        if request.path == "/json":
            response.json(201, {"got": request.json, "题": "好"})
        elif request.path == "/text":
            response.send(200, b"plain", "text/plain", {"X-Extra": "1"})
        elif request.path == "/stream":
            for n in range(3):
                response.chunk(b"%d\n" % n, "application/x-ndjson")
            response.end()
        elif request.path == "/cut-stream":
            response.chunk(b"0\n", "application/x-ndjson")
            raise Cut
        elif request.path == "/cut":
            raise Cut
        elif request.path == "/slow":
            while not self.stopping.wait(0.01):
                response.chunk(b"x\n", "application/x-ndjson")
        else:
            response.text(404, "no")


@pytest.fixture
def server() -> Iterator[Scripted]:
    with Scripted() as server:
        yield server


def test_every_request_is_recorded_as_sent(server: Scripted) -> None:
    before = time.monotonic()
    with httpx.Client(base_url=server.url(), headers={"X-Token": "t"}) as http:
        http.get("/search", params={"q": "登高 杜甫", "empty": ""})
        http.post("/json", json={"a": [1, "二"]})
        http.post("/json", content=b"not json")
        http.post("/json", content=iter([b'{"chunked"', b": true}"]))  # a chunked request body
        http.post("/form", data={"q": "owl habits"})
    get, posted, garbage, chunked, form = server.requests
    assert (get.method, get.path, get.body, get.json) == ("GET", "/search", b"", None)
    assert get.params == {"q": ["登高 杜甫"], "empty": [""]} and get.param("q") == "登高 杜甫"
    assert get.param("missing") is None and get.target.startswith("/search?q=%E7%99%BB")
    assert get.header("x-token") == get.header("X-TOKEN") == "t" and get.header("nope") is None
    assert "GET /search?q=登高 杜甫" in get.as_text() and "X-Token: t" in get.as_text()
    assert posted.json == {"a": [1, "二"]} and posted.header("content-type") == "application/json"
    assert garbage.body == b"not json" and garbage.json is None
    assert chunked.json == {"chunked": True} and chunked.header("transfer-encoding") == "chunked"
    assert "q=owl habits" in form.as_text()
    assert before <= get.at <= posted.at <= time.monotonic()
    assert server.requests_to("/json") == [posted, garbage, chunked]


def test_answers_whole_chunked_or_cut(server: Scripted) -> None:
    with httpx.Client(base_url=server.url(), timeout=5) as http:
        whole = http.post("/json", json=1)
        assert (whole.status_code, whole.json()) == (201, {"got": 1, "题": "好"})
        assert whole.headers["content-type"] == "application/json; charset=utf-8"
        assert whole.headers["content-length"] == str(len(whole.content))
        head = http.head("/text")
        assert (head.headers["content-length"], head.headers["x-extra"], head.content) == ("5", "1", b"")
        assert http.get("/text").text == "plain"  # the same keep-alive connection still works

        with http.stream("GET", "/stream") as streamed:
            assert streamed.headers["transfer-encoding"] == "chunked"
            assert list(streamed.iter_lines()) == ["0", "1", "2"]

        received = []
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
            with http.stream("GET", "/cut-stream") as cut:
                for line in cut.iter_lines():
                    received.append(line)
        assert received == ["0"]
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            http.get("/cut")
        assert http.get("/nothing").status_code == 404  # the server itself is fine


def test_a_client_that_stops_reading_is_counted(server: Scripted) -> None:
    with httpx.Client(base_url=server.url()) as http:
        with http.stream("GET", "/slow") as response:
            next(response.iter_lines())
    deadline = time.monotonic() + 3
    while server.abandoned_streams == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.abandoned_streams == 1


def test_starts_on_a_free_port_and_stops_promptly_dropping_open_connections() -> None:
    server = Scripted()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/x", server.url("/x")) and server.port != 0
    assert server.origin == f"127.0.0.1:{server.port}"
    server.start()
    idle = httpx.Client(base_url=server.url(), timeout=5)
    assert idle.get("/text").status_code == 200  # a keep-alive connection stays open
    failures: list[Exception] = []

    def read() -> None:
        try:
            with httpx.stream("GET", server.url("/slow"), timeout=30) as response:
                for _ in response.iter_lines():
                    pass
        except Exception as exc:
            failures.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 2
    while not server.requests_to("/slow") and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    server.stop()  # idempotent
    reader.join(timeout=2)
    assert time.monotonic() - started < 2 and not reader.is_alive()
    assert failures  # the client saw its stream end early
    with pytest.raises(httpx.TransportError):
        idle.get("/text")
    idle.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url("/text"), timeout=1)


def test_closed_port_url_refuses_connections() -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(closed_port_url(), timeout=1)
