"""Any OpenAI-compatible chat server: DeepSeek's hosted R1, vLLM, llama.cpp's server, LM Studio.

Reasoning arrives as `delta.reasoning_content` (DeepSeek, vLLM, llama.cpp with a reasoning
format) or inline as <think>…</think> in the content; the pipeline's splitter handles both.
Stats: token counts from `usage`, speed from llama.cpp's `timings` when present, else measured
here from the first to the last token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx

from ..catalog import is_r1
from .base import (
    BackendError,
    BackendUnavailable,
    ChatBackend,
    ChatRequest,
    GenerationOptions,
    GenerationStats,
    ModelInfo,
    ModelNotFound,
    StreamInterrupted,
    StreamPiece,
)

if TYPE_CHECKING:
    from ...settings import Settings


def wire_options(options: GenerationOptions) -> dict[str, Any]:
    """The body fields for `options` (None: not sent). num_ctx and keep_alive have no equivalent:
    an OpenAI-compatible server fixes its context and memory when it loads the model."""
    fields = {
        "temperature": options.temperature,
        "top_p": options.top_p,
        "seed": options.seed,
        "max_tokens": options.num_predict,
    }
    return {name: value for name, value in fields.items() if value is not None}


class OpenAIBackend(ChatBackend):
    name = "openai"

    def __init__(self, url: str, *, api_key: str | None = None, timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        if not self.url.endswith("/v1"):
            self.url += "/v1"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=5.0))

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIBackend:
        if not settings.openai_base_url:
            raise BackendError(
                "the openai back-end needs ASSISTANT_OPENAI_BASE_URL (e.g. https://api.deepseek.com)"
            )
        return cls(settings.openai_base_url, api_key=settings.openai_api_key)

    def _get(self, path: str) -> dict:
        try:
            response = self._client.get(self.url + path)
        except httpx.ConnectError as exc:
            raise BackendUnavailable(f"no OpenAI-compatible server at {self.url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise BackendError(f"{self.url}: {exc}") from exc
        if response.status_code == 401:
            raise BackendError(f"{self.url} refused the API key (set ASSISTANT_OPENAI_API_KEY)")
        if response.status_code >= 400:
            raise BackendError(f"{self.url}{path} answered HTTP {response.status_code}")
        return response.json()

    def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(name=m.get("id", "")) for m in self._get("/models").get("data", [])]

    def show(self, model: str) -> ModelInfo:
        names = [m.name for m in self.list_models()]
        if names and model not in names:
            raise ModelNotFound(
                f"model '{model}' is not served at {self.url} (it serves: {', '.join(names)})"
            )
        # The server cannot say; R1 and "reasoner" models reason (inline or in reasoning_content).
        thinking = True if (is_r1(model) or "reason" in model.lower()) else None
        return ModelInfo(name=model, thinking=thinking)

    def chat(self, request: ChatRequest) -> Iterator[StreamPiece]:
        body = {
            "model": request.model,
            "messages": request.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            **wire_options(request.options),
        }
        started = time.perf_counter_ns()
        first = last = pieces = 0
        usage: dict = {}
        timings: dict = {}
        finish = ""
        try:
            with self._client.stream("POST", self.url + "/chat/completions", json=body) as response:
                self._check_status(response, request.model)
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    usage = chunk.get("usage") or usage
                    timings = chunk.get("timings") or timings
                    for choice in chunk.get("choices", []):
                        delta = choice.get("delta") or {}
                        finish = choice.get("finish_reason") or finish
                        thinking = delta.get("reasoning_content") or delta.get("reasoning") or ""
                        content = delta.get("content") or ""
                        if thinking or content:
                            now = time.perf_counter_ns()
                            first = first or now
                            last = now
                            pieces += 1
                            yield StreamPiece(thinking=thinking, content=content)
                else:
                    raise StreamInterrupted(f"the stream from {self.url} ended before [DONE]")
        except httpx.ConnectError as exc:
            raise BackendUnavailable(f"no OpenAI-compatible server at {self.url}: {exc}") from exc
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            raise StreamInterrupted(f"the stream from {self.url} broke: {exc}") from exc
        # Servers that send no usage stream about one token per delta: count those.
        eval_tokens = int(usage.get("completion_tokens") or timings.get("predicted_n") or pieces)
        eval_ns = int(timings["predicted_ms"] * 1e6) if timings.get("predicted_ms") else max(0, last - first)
        stats = GenerationStats(
            prompt_tokens=int(usage.get("prompt_tokens") or timings.get("prompt_n") or 0),
            eval_tokens=eval_tokens,
            prompt_eval_ns=int(timings.get("prompt_ms", 0) * 1e6),
            eval_ns=eval_ns,
            total_ns=time.perf_counter_ns() - started,
            done_reason=finish,
        )
        yield StreamPiece(done=True, stats=stats)

    def _check_status(self, response: httpx.Response, model: str) -> None:
        if response.status_code == 404:
            raise ModelNotFound(f"model '{model}' is not served at {self.url}")
        if response.status_code >= 400:
            response.read()
            raise BackendError(f"{self.url} answered HTTP {response.status_code}: {response.text[:300]}")
