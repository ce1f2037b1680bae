"""Chat back-ends behind one interface, by the name the `backend` setting uses.

Adding a back-end is adding a module with a `ChatBackend` subclass (its `from_settings` reads
what it needs) and a line in BACKENDS. A back-end's module is imported when it is made: the
`ollama` client library alone takes a third of a second to import, which the chat app must not
pay before its first screen.
"""

from __future__ import annotations

import importlib
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

if TYPE_CHECKING:
    from ...settings import Settings

#: Back-end name -> (module in this package, class name).
BACKENDS: dict[str, tuple[str, str]] = {
    "ollama": ("ollama", "OllamaBackend"),
    "openai": ("openai", "OpenAIBackend"),
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
    where = BACKENDS.get(settings.backend)
    if where is None:
        raise BackendError(
            f"unknown back-end '{settings.backend}' (ASSISTANT_BACKEND): use {' or '.join(BACKENDS)}"
        )
    module, name = where
    backend: type[ChatBackend] = getattr(importlib.import_module(f".{module}", __name__), name)
    return backend.from_settings(settings)
