"""The fake Ollama is wire-compatible with the real one: driven here by the official `ollama` client
and by raw httpx, the two ways the chat back-end talks to Ollama. Only its protocol is tested here:
recording, chunked streams, cut connections and stopping belong to the shared loopback server
(tests/test_fakes_loopback.py)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import httpx
import ollama
import pytest

from fakes_ollama import DIMENSION, MISSING_MODEL, FakeModel, FakeOllamaServer, Reply, prompt_tokens, tokens

R1 = "deepseek-r1:7b"
#: Installed as an old pull: its template predates thinking support, so no "thinking" capability.
OLD = "deepseek-r1:1.5b"
REASONING = "Okay, the user wants 2+2. Two plus two makes four, so the answer is 4."
ANSWER = "The answer is **4**."
GO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")


@pytest.fixture
def server() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.add_model(R1)
        server.add_model(OLD, thinking=False)
        server.script(R1, Reply(reasoning=REASONING, answer=ANSWER))
        yield server


@pytest.fixture
def client(server: FakeOllamaServer) -> Iterator[ollama.Client]:
    with ollama.Client(host=server.url(), timeout=10) as client:
        yield client


@pytest.fixture
def http(server: FakeOllamaServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url(), timeout=10) as http:
        yield http


def ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def ndjson_lines(response: httpx.Response) -> list[dict]:
    return [json.loads(line) for line in response.iter_lines() if line.strip()]


# --- Model management ---------------------------------------------------------------------------


def test_list_shows_installed_models_newest_first_with_details(
    client: ollama.Client, http: httpx.Client
) -> None:
    models = client.list().models
    assert [m.model for m in models] == [OLD, R1]
    r1 = models[1]
    assert r1.details.format == "gguf"
    assert (r1.details.family, r1.details.families) == ("qwen2", ["qwen2"])
    assert (r1.details.parameter_size, r1.details.quantization_level) == ("7.6B", "Q4_K_M")
    assert 4e9 < r1.size < 5e9
    assert re.fullmatch(r"[0-9a-f]{64}", r1.digest)
    assert r1.modified_at is not None and r1.modified_at.tzinfo is not None

    entry = http.get("/api/tags").json()["models"][0]
    assert set(entry) == {"name", "model", "modified_at", "size", "digest", "details"}
    assert set(entry["details"]) == {
        "parent_model", "format", "family", "families", "parameter_size", "quantization_level",
    }  # fmt: skip
    assert entry["name"] == entry["model"] == OLD
    assert GO_TIME.match(entry["modified_at"])


def test_show_reports_capabilities_context_length_and_template(
    client: ollama.Client, server: FakeOllamaServer
) -> None:
    r1 = client.show(R1)
    assert r1.capabilities == ["completion", "thinking"]
    assert r1.modelinfo["general.architecture"] == "qwen2"
    assert r1.modelinfo["qwen2.context_length"] == 131072
    assert r1.details.parameter_size == "7.6B"
    assert ".Thinking" in r1.template and "<think>" in r1.template
    assert "stop" in r1.parameters

    old = client.show(OLD)
    assert old.capabilities == ["completion"]
    assert ".Thinking" not in old.template

    server.add_model(FakeModel("my-llama:8b", family="llama", context_length=32768, thinking=False))
    custom = client.show("my-llama:8b")
    assert custom.modelinfo["llama.context_length"] == 32768
    assert custom.capabilities == ["completion"]

    with pytest.raises(ollama.ResponseError) as missing:
        client.show("nope:1b")
    assert (missing.value.status_code, missing.value.error) == (404, "model 'nope:1b' not found")


def test_pull_streams_progress_and_installs_the_model(client: ollama.Client) -> None:
    progress = list(client.pull("deepseek-r1:14b", stream=True))
    statuses = [p.status for p in progress]
    assert statuses[0] == "pulling manifest"
    assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    downloads = [p for p in progress if p.digest]
    assert len(downloads) > 5
    for p in downloads:
        assert p.status == f"pulling {p.digest[7:19]}"
        assert p.digest.startswith("sha256:") and p.total > 0
        assert (p.completed or 0) <= p.total
    finished = {p.digest: p.completed for p in downloads}
    totals = {p.digest: p.total for p in downloads}
    assert finished == totals
    assert sum(totals.values()) > 8e9

    pulled = {m.model: m for m in client.list().models}["deepseek-r1:14b"]
    assert pulled.details.parameter_size == "14.8B"
    assert client.chat("deepseek-r1:14b", ask("hi")).done

    assert client.pull("deepseek-r1:1.5b").status == "success"  # stream=False: one JSON object


def test_pull_of_a_name_the_registry_lacks_fails_like_ollama(
    client: ollama.Client, http: httpx.Client, server: FakeOllamaServer
) -> None:
    seen = []
    with pytest.raises(ollama.ResponseError) as streamed:
        for p in client.pull("no-such-model:3b", stream=True):
            seen.append(p.status)
    assert seen == ["pulling manifest"]
    assert streamed.value.error == "pull model manifest: file does not exist"

    with pytest.raises(ollama.ResponseError) as whole:
        client.pull("no-such-model:3b")
    assert whole.value.status_code == 500

    raw = http.post("/api/pull", json={"model": "no-such-model:3b"})
    assert raw.status_code == 200
    assert ndjson_lines(raw) == [
        {"status": "pulling manifest"},
        {"error": "pull model manifest: file does not exist"},
    ]
    assert "no-such-model:3b" not in [m.model for m in client.list().models]

    server.offer(FakeModel("no-such-model:3b", thinking=False, parameter_size="3.2B"))
    assert client.pull("no-such-model:3b").status == "success"
    assert client.show("no-such-model:3b").capabilities == ["completion"]


# --- Chat ---------------------------------------------------------------------------------------


def test_chat_streams_thinking_then_the_answer_with_stats(
    client: ollama.Client, server: FakeOllamaServer
) -> None:
    server.script(R1, Reply(reasoning=REASONING, answer=ANSWER, tokens_per_second=42.5))
    messages = ask("What is 2+2?")
    parts = list(client.chat(R1, messages, stream=True, think=True))
    *chunks, final = parts

    kinds = ["thinking" if p.message.thinking else "content" for p in chunks]
    assert kinds == sorted(kinds, key=lambda k: k == "content")  # all thinking first
    assert kinds.count("thinking") > 5 and kinds.count("content") > 3
    assert "".join(p.message.thinking or "" for p in chunks) == REASONING
    assert "".join(p.message.content for p in chunks) == ANSWER
    assert all(not p.done and p.model == R1 and p.message.role == "assistant" for p in chunks)

    assert final.done and final.done_reason == "stop"
    assert final.message.content == "" and final.message.thinking is None
    assert final.eval_count == len(chunks) == len(tokens(REASONING)) + len(tokens(ANSWER))
    assert final.eval_count / final.eval_duration * 1e9 == pytest.approx(42.5, rel=1e-6)
    assert final.prompt_eval_count == prompt_tokens(messages)
    assert final.prompt_eval_duration > 0 and final.load_duration > 0
    assert final.total_duration > final.load_duration + final.prompt_eval_duration + final.eval_duration


def test_think_defaults_on_for_a_thinking_model_and_can_be_turned_off(client: ollama.Client) -> None:
    def answer(**kwargs) -> tuple[str, str]:
        parts = list(client.chat(R1, ask("2+2?"), stream=True, **kwargs))
        return "".join(p.message.thinking or "" for p in parts), "".join(p.message.content for p in parts)

    assert answer() == (REASONING, ANSWER)
    assert answer(think="high") == (REASONING, ANSWER)
    assert answer(think=False) == ("", ANSWER)


def test_chat_without_streaming_returns_the_whole_message(client: ollama.Client) -> None:
    response = client.chat(R1, ask("2+2?"), think=True)
    assert response.done and response.done_reason == "stop"
    assert (response.message.thinking, response.message.content) == (REASONING, ANSWER)
    assert response.eval_count == len(tokens(REASONING)) + len(tokens(ANSWER))


def test_chat_errors_match_ollamas(client: ollama.Client, http: httpx.Client) -> None:
    def error_of(model: str, stream: bool = False, **kwargs) -> tuple[int, str]:
        with pytest.raises(ollama.ResponseError) as raised:
            list(client.chat(model, ask("hi"), stream=True, **kwargs)) if stream else client.chat(
                model, ask("hi"), **kwargs
            )
        return raised.value.status_code, raised.value.error

    assert error_of("nope:1b") == (404, 'model "nope:1b" not found, try pulling it first')
    assert error_of("nope:1b", stream=True) == (404, 'model "nope:1b" not found, try pulling it first')
    assert error_of(OLD, think=True) == (400, f'"{OLD}" does not support thinking')
    assert error_of(OLD, think="low") == (400, f'"{OLD}" does not support thinking')
    assert error_of(R1, tools=[{"type": "function", "function": {"name": "f"}}]) == (
        400,
        f"registry.ollama.ai/library/{R1} does not support tools",
    )
    assert error_of(R1, options={"num_ctx": "big"}) == (500, 'option "num_ctx" must be of type integer')
    # think=False is fine for a model that cannot think.
    assert client.chat(OLD, ask("hi"), think=False).done
    invalid = http.post("/api/chat", json={"model": R1, "messages": ask("hi"), "think": "max"})
    assert invalid.status_code == 400
    assert invalid.json()["error"].startswith('invalid think value: "max"')


@pytest.mark.parametrize(
    ("style", "content"),
    [
        ("inline", f"<think>\n{REASONING}\n</think>\n\n{ANSWER}"),
        ("close-only", f"{REASONING}\n</think>\n\n{ANSWER}"),
    ],
)
def test_reasoning_can_arrive_inside_the_content(
    client: ollama.Client, server: FakeOllamaServer, style: str, content: str
) -> None:
    server.script(R1, Reply(reasoning=REASONING, answer=ANSWER, style=style))
    parts = list(client.chat(R1, ask("2+2?"), stream=True))
    assert all(p.message.thinking is None for p in parts)
    assert "".join(p.message.content for p in parts) == content
    assert "</think>" in [p.message.content for p in parts]  # one special token, one chunk

    server.script(R1, Reply(reasoning=REASONING, answer=ANSWER, style=style, chunk_size=3))
    pieces = [p.message.content for p in client.chat(R1, ask("2+2?"), stream=True)]
    assert "".join(pieces) == content and "</think>" not in pieces
    assert max(len(p) for p in pieces) == 3

    # A model without the thinking capability answers inline unless a reply says otherwise.
    server.script(OLD, Reply(reasoning="Hmm.", answer="Hi!"))
    assert client.chat(OLD, ask("hi")).message.content == "<think>\nHmm.\n</think>\n\nHi!"


def test_replies_follow_the_script_in_order_or_are_computed_from_the_request(
    client: ollama.Client, server: FakeOllamaServer
) -> None:
    server.script(R1, "first", Reply(answer="second"))
    answers = [client.chat(R1, ask("x"), think=False).message.content for _ in range(3)]
    assert answers == ["first", "second", "second"]

    server.script(R1, lambda request: Reply(reasoning="Echo.", answer=request.prompt.upper()))
    reply = client.chat(R1, ask("shout this"), think=True)
    assert (reply.message.thinking, reply.message.content) == ("Echo.", "SHOUT THIS")

    server.script(R1, lambda request: 1 / 0)
    with pytest.raises(ollama.ResponseError, match="ZeroDivisionError"):
        client.chat(R1, ask("x"))

    server.add_model("deepseek-r1:32b")  # nothing scripted: a default reply naming the model
    assert "deepseek-r1:32b" in client.chat("deepseek-r1:32b", ask("x")).message.content


def test_every_request_is_recorded(client: ollama.Client, server: FakeOllamaServer) -> None:
    history = [
        {"role": "user", "content": "What is 1+1?"},
        {"role": "assistant", "content": "2"},
        {"role": "user", "content": "And 2+2?"},
    ]
    options = {"num_ctx": 8192, "temperature": 0.6, "top_p": 0.95}
    list(client.chat(R1, history, stream=True, think=True, options=options, keep_alive="10m"))
    client.chat(OLD, ask("plain"))

    chat, plain = server.chats
    assert (chat.method, chat.path, chat.model) == ("POST", "/api/chat", R1)
    assert chat.options == options
    assert chat.think is True and chat.stream is True
    assert chat.json["keep_alive"] == "10m"
    assert chat.prompt == "And 2+2?"
    assert chat.history == history[:2]
    assert chat.header("user-agent").startswith("ollama-python/")
    assert plain.think is None and plain.stream is False and plain.options == {}
    assert server.last_chat is plain


def test_prompt_eval_count_is_cut_to_the_context_window(
    client: ollama.Client, server: FakeOllamaServer
) -> None:
    messages = ask("word " * 6000)
    sent = prompt_tokens(messages)
    assert sent > 6000

    def evaluated(**options) -> int:
        return client.chat(R1, messages, think=False, options=options).prompt_eval_count

    assert evaluated() == 4096  # the server default when num_ctx is absent
    assert evaluated(num_ctx=2048) == 2048
    assert evaluated(num_ctx=16384) == sent
    server.default_num_ctx = 32768  # as with OLLAMA_CONTEXT_LENGTH or a big GPU
    assert evaluated() == sent
    server.add_model("deepseek-r1:8b", context_length=3000)
    assert client.chat("deepseek-r1:8b", messages, options={"num_ctx": 16384}).prompt_eval_count == 3000


def test_num_predict_cuts_the_answer_with_done_reason_length(
    client: ollama.Client, server: FakeOllamaServer
) -> None:
    parts = list(client.chat(R1, ask("2+2?"), stream=True, think=True, options={"num_predict": 5}))
    assert parts[-1].done_reason == "length" and parts[-1].eval_count == 5
    assert "".join(p.message.thinking or "" for p in parts) == "".join(tokens(REASONING)[:5])
    assert all(not p.message.content for p in parts)  # still thinking when the budget ran out

    server.script(R1, Reply(answer="cut", done_reason="length"))
    assert client.chat(R1, ask("x")).done_reason == "length"


def test_loading_keep_alive_and_ps(client: ollama.Client, server: FakeOllamaServer) -> None:
    def load_ns(**kwargs) -> int:
        return client.chat(R1, ask("hi"), think=False, **kwargs).load_duration

    assert load_ns(options={"num_ctx": 8192}) == 2_000_000_000  # cold
    assert load_ns(options={"num_ctx": 8192}) < 100_000_000  # warm
    assert load_ns(options={"num_ctx": 16384}) == 2_000_000_000  # a new num_ctx reloads it
    assert server.loads == 2
    (running,) = client.ps().models
    assert (running.model, running.context_length, running.size_vram) == (R1, 16384, running.size)

    assert load_ns(options={"num_ctx": 16384}, keep_alive=0) < 100_000_000
    assert client.ps().models == []  # unloaded after answering
    preload = client.chat(R1, [])  # no messages: Ollama just loads the model
    assert (preload.done, preload.done_reason, preload.message.content) == (True, "load", "")
    unload = client.chat(R1, [], keep_alive=0)
    assert unload.done_reason == "unload" and client.ps().models == []


# --- Raw wire format ----------------------------------------------------------------------------


def test_stream_is_chunked_ndjson_with_ollamas_fields(http: httpx.Client) -> None:
    body = {"model": R1, "messages": ask("2+2?"), "think": True}  # stream is on by default
    with http.stream("POST", "/api/chat", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        assert response.headers["transfer-encoding"] == "chunked"
        lines = ndjson_lines(response)
    *chunks, final = lines
    thinking = [c for c in chunks if "thinking" in c["message"]]
    content = [c for c in chunks if "thinking" not in c["message"]]
    assert chunks == thinking + content
    for chunk in chunks:
        assert set(chunk) == {"model", "created_at", "message", "done"}
        assert chunk["model"] == R1 and chunk["done"] is False
        assert GO_TIME.match(chunk["created_at"]) and chunk["created_at"].endswith("Z")
    assert all(
        c["message"] == {"role": "assistant", "content": "", "thinking": c["message"]["thinking"]}
        for c in thinking
    )
    assert all(set(c["message"]) == {"role", "content"} for c in content)
    assert set(final) == {
        "model", "created_at", "message", "done", "done_reason", "total_duration", "load_duration",
        "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration",
    }  # fmt: skip
    assert final["message"] == {"role": "assistant", "content": ""}
    assert (final["done"], final["done_reason"]) == (True, "stop")
    assert all(isinstance(final[k], int) for k in final if k.endswith(("duration", "count")))

    whole = http.post("/api/chat", json=body | {"stream": False})
    assert whole.headers["content-type"] == "application/json; charset=utf-8"
    assert whole.json()["message"] == {"role": "assistant", "content": ANSWER, "thinking": REASONING}


def test_a_scripted_cut_ends_the_stream_without_a_done_line(
    client: ollama.Client, server: FakeOllamaServer
) -> None:
    server.script(R1, Reply(reasoning=REASONING, answer=ANSWER, cut_after=4))
    parts = []
    with pytest.raises(httpx.RemoteProtocolError):  # the ollama client does not wrap it
        for part in client.chat(R1, ask("2+2?"), stream=True):
            parts.append(part)
    assert len(parts) == 4 and not any(p.done for p in parts)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        client.chat(R1, ask("2+2?"))  # stream=False: the server hangs up before answering


def test_runner_errors_before_or_during_the_stream(client: ollama.Client, server: FakeOllamaServer) -> None:
    crash = "llama runner process has terminated: exit status 2"
    server.script(R1, Reply(answer=ANSWER, error=crash, error_after=3))
    parts = []
    with pytest.raises(ollama.ResponseError, match="exit status 2"):
        for part in client.chat(R1, ask("2+2?"), stream=True, think=False):
            parts.append(part)
    assert len(parts) == 3

    server.script(R1, Reply(error="model requires more system memory (5.5 GiB) than is available (3.1 GiB)"))
    with pytest.raises(ollama.ResponseError) as raised:
        list(client.chat(R1, ask("2+2?"), stream=True))
    assert raised.value.status_code == 500 and "more system memory" in raised.value.error


def test_delay_between_chunks(client: ollama.Client, server: FakeOllamaServer) -> None:
    server.script(R1, Reply(answer="one two three four", delay=0.03))
    start = time.monotonic()
    arrivals = [time.monotonic() for _ in client.chat(R1, ask("count"), stream=True, think=False)]
    assert len(arrivals) == 5
    # Each of the four pieces waits its delay before it is sent. Measured from the request, not
    # between arrivals: a client scheduled late on a busy machine reads the first chunks together.
    assert arrivals[0] - start >= 0.03 and arrivals[-1] - start >= 4 * 0.03


def test_unknown_routes_methods_and_bodies(http: httpx.Client) -> None:
    assert (http.get("/").status_code, http.get("/").text) == (200, "Ollama is running")
    missing = http.get("/api/nothing")
    assert (missing.status_code, missing.text) == (404, "404 page not found")
    assert http.get("/api/chat").status_code == 405
    empty = http.post("/api/chat")
    assert (empty.status_code, empty.json()) == (400, {"error": "missing request body"})
    assert http.post("/api/chat", json={"messages": []}).json() == {"error": "model is required"}
    # /api/version and /api/delete are Ollama's too, but nothing in the assistant calls them.
    assert http.get("/api/version").status_code == 404
    assert http.request("DELETE", "/api/delete", json={"model": OLD}).status_code == 404


# --- Tokens and embeddings --------------------------------------------------------------------------


def test_tokens_join_back_and_keep_think_tags_whole() -> None:
    text = "<think>\nOkay, understanding scattering…\n</think>\n\n答案是 42。"
    pieces = tokens(text)
    assert "".join(pieces) == text
    assert {"<think>", "</think>", "答", " 4", "2"} <= set(pieces)
    assert max(len(p) for p in pieces) <= 8


def test_the_embedding_api_is_unchanged(fake_ollama: FakeOllamaServer) -> None:
    # The session-wide fake the ingest tests use: no chat models, embeddings for any model name.
    with ollama.Client(host=fake_ollama.url()) as client:
        assert client.list().models == []
        vectors = client.embed(model="fake-embed", input=["ducks swim", "owls hoot"]).embeddings
        assert len(vectors) == 2 and all(len(v) == DIMENSION for v in vectors)
        with pytest.raises(ollama.ResponseError) as missing:
            client.embed(model=MISSING_MODEL, input="x")
    assert missing.value.status_code == 404
    assert missing.value.error == f'model "{MISSING_MODEL}" not found, try pulling it first'
