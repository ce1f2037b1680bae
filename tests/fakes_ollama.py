"""A fake Ollama server speaking the real native API over loopback: embeddings and chat models.

Embeddings (`/api/embed`) are a hashed bag of words (`models.hashed_vector`), so a knowledge base
of hundreds of chunks is built in milliseconds through the same `ollama:MODEL` embedder users run.
Any embedding model name works except `MISSING_MODEL`.

Chat models are scripted. A test installs models (`add_model`), makes others pullable (`offer`; the
DeepSeek-R1 library tags always are), and scripts what each model answers (`script`): reasoning and
answer text, how the reasoning arrives (Ollama's `thinking` field, inline `<think>` tags, or only a
closing `</think>`), tokens per second, a delay between chunks, a stream cut after N chunks, or an
error. Every request is recorded (`requests`, `chats`), so tests can assert what was sent.

    server = FakeOllamaServer().start()
    server.add_model("deepseek-r1:7b")
    server.add_model("deepseek-r1:1.5b-old", thinking=False)  # an old pull: no "thinking" capability
    server.script("deepseek-r1:7b", Reply(reasoning="Two plus two...", answer="4", tokens_per_second=30))
    server.script("deepseek-r1:1.5b-old", lambda req: Reply(reasoning="Hm.", answer=req.prompt.upper()))
    ...  # point the code under test at server.url()
    assert server.last_chat.options["num_ctx"] == 8192

It serves the endpoints the assistant uses (`/api/tags`, `/api/show`, `/api/pull`, `/api/ps`,
`/api/chat`, `/api/embed`) as ollama/ollama `server/routes.go` and `api/types.go` do: Go's
`omitempty` fields, error texts and status codes, durations in nanoseconds. `models` is what it
reports about a model, `chat` one chat's reply on the wire, `go` Go's formats, `server` the state
and the routes; the HTTP side (recording, chunked streams, cut connections) is `fakes_loopback`.
"""

from fakes_ollama_chat import OllamaRequest, Reply, prompt_tokens, tokens
from fakes_ollama_models import DIMENSION, MISSING_MODEL, R1_LIBRARY, FakeModel, hashed_vector
from fakes_ollama_server import FakeOllamaServer

__all__ = [
    "DIMENSION",
    "MISSING_MODEL",
    "R1_LIBRARY",
    "FakeModel",
    "FakeOllamaServer",
    "OllamaRequest",
    "Reply",
    "hashed_vector",
    "prompt_tokens",
    "tokens",
]
