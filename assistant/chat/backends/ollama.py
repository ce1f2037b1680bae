"""Ollama's native API (through the official `ollama` client): thinking, stats, pulls."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import ollama

from .base import (
    BackendError,
    BackendUnavailable,
    ChatBackend,
    ChatRequest,
    GenerationOptions,
    GenerationStats,
    ModelInfo,
    ModelNotFound,
    PullProgress,
    StreamInterrupted,
    StreamPiece,
    ThinkingUnsupported,
)

if TYPE_CHECKING:
    from ...settings import Settings

#: The generation options Ollama takes in its `options` object, by the same names.
_OPTION_FIELDS = ("num_ctx", "num_predict", "temperature", "top_p", "seed")
_SECONDS = re.compile(r"[-+]?\d+(\.\d+)?")


def wire_options(options: GenerationOptions) -> tuple[dict[str, Any] | None, float | str | None]:
    """Ollama's `options` object and top-level `keep_alive` for a request (None: not sent)."""
    sent = {name: value for name in _OPTION_FIELDS if (value := getattr(options, name)) is not None}
    keep_alive: float | str | None = options.keep_alive
    # Ollama reads a JSON string as a Go duration, which needs a unit: send bare seconds as a number.
    if keep_alive is not None and _SECONDS.fullmatch(keep_alive):
        number = float(keep_alive)
        keep_alive = int(number) if number.is_integer() else number
    return sent or None, keep_alive


class OllamaBackend(ChatBackend):
    name = "ollama"
    native_thinking = True

    def __init__(self, url: str = "http://127.0.0.1:11434", *, timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self._client = ollama.Client(host=self.url, timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> OllamaBackend:
        return cls(settings.ollama_host)

    def _unavailable(self) -> BackendUnavailable:
        return BackendUnavailable(
            f"Ollama is not running at {self.url}. Start it with `ollama serve` (or the Ollama app), "
            "or set OLLAMA_HOST to where it runs."
        )

    def _translate(self, exc: Exception, model: str = "") -> BackendError:
        if isinstance(exc, ConnectionError | httpx.ConnectError | httpx.ConnectTimeout):
            return self._unavailable()
        if isinstance(exc, ollama.ResponseError):
            message = exc.error or str(exc)
            if exc.status_code == 404:
                return ModelNotFound(
                    f"model '{model}' is not installed in Ollama at {self.url}: pull it with "
                    f"`assistant models pull {model}` (or `ollama pull {model}`)"
                )
            if exc.status_code == 400 and "does not support thinking" in message:
                return ThinkingUnsupported(message)
            return BackendError(f"Ollama at {self.url}: {message}")
        if isinstance(exc, httpx.HTTPError):
            return StreamInterrupted(f"the connection to Ollama at {self.url} broke: {exc}")
        return BackendError(f"Ollama at {self.url}: {exc}")

    def list_models(self) -> list[ModelInfo]:
        try:
            listed = self._client.list()
        except Exception as exc:
            raise self._translate(exc) from exc
        return [
            ModelInfo(
                name=m.model or "",
                size_bytes=int(m.size or 0),
                parameter_size=(m.details.parameter_size if m.details else "") or "",
                quantization=(m.details.quantization_level if m.details else "") or "",
                family=(m.details.family if m.details else "") or "",
            )
            for m in listed.models
        ]

    def show(self, model: str) -> ModelInfo:
        try:
            shown = self._client.show(model)
        except Exception as exc:
            raise self._translate(exc, model) from exc
        info = dict(shown.modelinfo or {})
        context = next((int(v) for k, v in info.items() if k.endswith(".context_length")), None)
        details = shown.details
        return ModelInfo(
            name=model,
            parameter_size=(details.parameter_size if details else "") or "",
            quantization=(details.quantization_level if details else "") or "",
            family=(details.family if details else "") or "",
            thinking="thinking" in (shown.capabilities or []) if shown.capabilities is not None else None,
            context_length=context,
        )

    def loaded_memory(self, model: str) -> int | None:
        try:
            running = self._client.ps()
        except Exception as exc:
            raise self._translate(exc, model) from exc
        for m in running.models:
            if m.model == model or m.name == model:
                return int(m.size or 0) or None
        return None

    def pull(self, model: str) -> Iterator[PullProgress]:
        try:
            for p in self._client.pull(model, stream=True):
                yield PullProgress(p.status or "", int(p.completed or 0), int(p.total or 0))
        except Exception as exc:
            raise self._translate(exc, model) from exc

    def chat(self, request: ChatRequest) -> Iterator[StreamPiece]:
        options, keep_alive = wire_options(request.options)
        try:
            stream = self._client.chat(
                model=request.model,
                messages=request.messages,
                stream=True,
                think=request.think,
                options=options,
                keep_alive=keep_alive,
            )
            for part in stream:
                message = part.message
                if part.done:
                    yield StreamPiece(
                        thinking=(message.thinking or "") if message else "",
                        content=(message.content or "") if message else "",
                        done=True,
                        stats=GenerationStats(
                            prompt_tokens=int(part.prompt_eval_count or 0),
                            eval_tokens=int(part.eval_count or 0),
                            prompt_eval_ns=int(part.prompt_eval_duration or 0),
                            eval_ns=int(part.eval_duration or 0),
                            load_ns=int(part.load_duration or 0),
                            total_ns=int(part.total_duration or 0),
                            done_reason=part.done_reason or "",
                        ),
                    )
                    return
                yield StreamPiece(thinking=message.thinking or "", content=message.content or "")
        except Exception as exc:
            raise self._translate(exc, request.model) from exc
        raise StreamInterrupted(f"Ollama at {self.url} ended the reply before it was done")
