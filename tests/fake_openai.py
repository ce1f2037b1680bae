"""A fake OpenAI-compatible chat server (llama.cpp's server, vLLM, DeepSeek's API) on loopback.

It serves `GET /v1/models` and a streamed `POST /v1/chat/completions` (server-sent events with a
usage chunk and `[DONE]`), and records every request so tests can assert the body sent.
"""

from __future__ import annotations

import json

from loopback import LoopbackServer, RecordedRequest, RecordingHandler


class FakeOpenAI(LoopbackServer):
    name = "fake-openai"

    def __init__(self, models: tuple[str, ...] = ("deepseek-r1-distill-qwen-7b",)) -> None:
        super().__init__()
        self.models = list(models)
        #: The reply, streamed a word per event, reasoning first (as `reasoning_content`).
        self.reasoning = "The user greets me."
        self.answer = "Hello there."

    @property
    def chats(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def last_body(self) -> dict:
        return json.loads(self.chats[-1].body)

    def handle_request_for(self, handler: RecordingHandler, request: RecordedRequest) -> None:
        if request.method == "GET" and request.path == "/v1/models":
            body = {"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]}
            handler.reply(200, json.dumps(body).encode(), "application/json")
        elif request.method == "POST" and request.path == "/v1/chat/completions":
            self._stream(handler, json.loads(request.body))
        else:
            handler.reply(404, b'{"error": "not found"}', "application/json")

    def _stream(self, handler: RecordingHandler, body: dict) -> None:
        events = [{"reasoning_content": w + " "} for w in self.reasoning.split()]
        events += [{"content": w + " "} for w in self.answer.split()]
        chunks = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in events]
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        chunks.append({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": len(events)}})
        stream = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        handler.reply(200, stream.encode(), "text/event-stream")
