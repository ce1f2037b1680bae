"""Chat back-ends behind one interface; `make_backend` picks one from settings."""

from __future__ import annotations

from .base import (
    BackendError,
    BackendUnavailable,
    ChatBackend,
    ChatRequest,
    GenerationStats,
    ModelInfo,
    ModelNotFound,
    PullProgress,
    StreamInterrupted,
    StreamPiece,
    ThinkingUnsupported,
)

__all__ = [
    "BackendError",
    "BackendUnavailable",
    "ChatBackend",
    "ChatRequest",
    "GenerationStats",
    "ModelInfo",
    "ModelNotFound",
    "PullProgress",
    "StreamInterrupted",
    "StreamPiece",
    "ThinkingUnsupported",
    "make_backend",
]


def make_backend(
    name: str, *, ollama_url: str, openai_url: str | None = None, api_key: str | None = None
) -> ChatBackend:
    if name == "ollama":
        from .ollama import OllamaBackend

        return OllamaBackend(ollama_url)
    if name == "openai":
        if not openai_url:
            raise BackendError(
                "the openai back-end needs ASSISTANT_OPENAI_BASE_URL (e.g. https://api.deepseek.com)"
            )
        from .openai import OpenAIBackend

        return OpenAIBackend(openai_url, api_key=api_key)
    raise BackendError(f"unknown back-end '{name}': use ollama or openai")
