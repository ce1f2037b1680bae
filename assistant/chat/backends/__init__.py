"""Chat back-ends behind one interface, by the name the `backend` setting uses.

Adding a back-end is adding a module with a `ChatBackend` subclass (its `from_settings` reads
what it needs) and a line in BACKENDS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from .ollama import OllamaBackend
from .openai import OpenAIBackend

if TYPE_CHECKING:
    from ...settings import Settings

BACKENDS: dict[str, type[ChatBackend]] = {
    "ollama": OllamaBackend,
    "openai": OpenAIBackend,
}

__all__ = [
    "BACKENDS",
    "BackendError",
    "BackendUnavailable",
    "ChatBackend",
    "ChatRequest",
    "GenerationOptions",
    "GenerationStats",
    "ModelInfo",
    "ModelNotFound",
    "PullProgress",
    "StreamInterrupted",
    "StreamPiece",
    "ThinkingUnsupported",
    "make_backend",
]


def make_backend(settings: Settings) -> ChatBackend:
    """The back-end named by `settings.backend`, configured from `settings`."""
    backend = BACKENDS.get(settings.backend)
    if backend is None:
        raise BackendError(
            f"unknown back-end '{settings.backend}' (ASSISTANT_BACKEND): use {' or '.join(BACKENDS)}"
        )
    return backend.from_settings(settings)
