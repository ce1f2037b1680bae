"""Chat back-ends behind one interface, by the name the `backend` setting uses.

Adding a back-end is adding a module with a `ChatBackend` subclass (its `from_settings` reads
what it needs) and a line in BACKENDS; an installed package can add one too, under the entry-point
group PLUGIN_GROUP (see vectorstore.plugins and the README's "Plugins"). A back-end's module is
imported when it is made: the `ollama` client library alone takes a third of a second to import,
which the chat app must not pay before its first screen.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from vectorstore.plugins import load_plugin, plugin_names

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

#: Where installed packages declare back-ends: name = "module:ChatBackendSubclass".
PLUGIN_GROUP = "r1_assistant.chat_backends"

__all__ = [
    "BACKENDS",
    "PLUGIN_GROUP",
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
    "backend_names",
    "make_backend",
]


def backend_names() -> list[str]:
    """The built-in back-ends' names, then the installed plugins'."""
    return [*BACKENDS, *plugin_names(PLUGIN_GROUP, besides=BACKENDS)]


def make_backend(settings: Settings) -> ChatBackend:
    """The back-end named by `settings.backend`, configured from `settings`."""
    where = BACKENDS.get(settings.backend)
    if where is not None:
        module, name = where
        backend: type[ChatBackend] = getattr(importlib.import_module(f".{module}", __name__), name)
        return backend.from_settings(settings)
    plugin = load_plugin(
        PLUGIN_GROUP,
        settings.backend,
        kind="chat back-end",
        accepts=lambda value: isinstance(value, type) and issubclass(value, ChatBackend),
        error=BackendError,
    )
    if plugin is None:
        raise BackendError(
            f"unknown back-end '{settings.backend}' (ASSISTANT_BACKEND): use {' or '.join(backend_names())}"
        )
    return plugin.value.from_settings(settings)
