"""A fake OpenAI-compatible chat server (llama.cpp's server, vLLM, DeepSeek's API) on loopback.

It serves `GET /v1/models` and a streamed `POST /v1/chat/completions` (server-sent events, a word
per event, reasoning first as `reasoning_content`, then a usage chunk and `[DONE]`).
"""

from __future__ import annotations

import json

from fakes_loopback import LoopbackServer, RecordedRequest, Response


class FakeOpenAI(LoopbackServer):
    name = "fake-openai"

    def __init__(self, models: tuple[str, ...] = ("deepseek-r1-distill-qwen-7b",)) -> None:
        super().__init__()
        self.models = list(models)
        #: The reply, streamed a word per event, reasoning first (as `reasoning_content`).
        self.reasoning = "The user greets me."
        self.answer_text = "Hello there."

    @property
    def chats(self) -> list[RecordedRequest]:
        return self.requests_to("/v1/chat/completions")

    def last_body(self) -> dict:
        return self.chats[-1].json

    def answer(self, request: RecordedRequest, response: Response) -> None:
        if request.method == "GET" and request.path == "/v1/models":
            response.json(
                200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]}
            )
        elif request.method == "POST" and request.path == "/v1/chat/completions":
            self._stream(response)
        else:
            response.json(404, {"error": "not found"})

    def _stream(self, response: Response) -> None:
        events = [{"reasoning_content": w + " "} for w in self.reasoning.split()]
        events += [{"content": w + " "} for w in self.answer_text.split()]
        chunks = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in events]
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        chunks.append({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": len(events)}})
        for data in [*map(json.dumps, chunks), "[DONE]"]:
            response.chunk(f"data: {data}\n\n".encode(), "text/event-stream")
        response.end()
