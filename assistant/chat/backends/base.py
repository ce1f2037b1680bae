"""The chat back-end interface: what every model server (Ollama, OpenAI-compatible) provides."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...settings import Settings

from vectorstore.errors import AssistantError


class BackendError(AssistantError):
    """A back-end failed; the message says what happened and what to do."""


class BackendUnavailable(BackendError):
    """The server is not running or not reachable."""


class ModelNotFound(BackendError):
    """The model is not installed on the server."""


class ThinkingUnsupported(BackendError):
    """The model (or its template) cannot separate reasoning on request."""


class StreamInterrupted(BackendError):
    """The stream ended before the server said it was done."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    size_bytes: int = 0
    parameter_size: str = ""
    quantization: str = ""
    family: str = ""
    #: True/False when the server says; None when it cannot tell.
    thinking: bool | None = None
    context_length: int | None = None


@dataclass(frozen=True)
class PullProgress:
    status: str
    completed: int = 0
    total: int = 0


@dataclass(frozen=True)
class GenerationStats:
    """The server's own counters for one reply; durations in nanoseconds (0 when unknown)."""

    prompt_tokens: int = 0
    eval_tokens: int = 0
    prompt_eval_ns: int = 0
    eval_ns: int = 0
    load_ns: int = 0
    total_ns: int = 0
    done_reason: str = ""

    @property
    def tokens_per_second(self) -> float | None:
        """Generation speed from the nanosecond counters (never from rounded seconds)."""
        if self.eval_tokens and self.eval_ns:
            return self.eval_tokens / self.eval_ns * 1e9
        return None


@dataclass(frozen=True)
class StreamPiece:
    thinking: str = ""
    content: str = ""
    done: bool = False
    stats: GenerationStats | None = None


@dataclass(frozen=True)
class GenerationOptions:
    """How to generate one reply. None everywhere means "the server's default", and is never sent.

    Each back-end puts these on the wire in one method of its own (Ollama: `options` and a
    top-level `keep_alive`; OpenAI-compatible servers: body fields, `max_tokens` for num_predict).
    """

    #: Context window (Ollama only; an OpenAI-compatible server fixes it when it loads the model).
    num_ctx: int | None = None
    #: Most tokens the reply may generate, reasoning included.
    num_predict: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    #: How long Ollama keeps the model loaded after the reply: a duration ("5m", "1h") or seconds
    #: ("300"; "-1" for ever, "0" to unload at once). Not sent to OpenAI-compatible servers.
    keep_alive: str | None = None


@dataclass(frozen=True)
class ChatRequest:
    model: str
    #: [{"role": "user" | "assistant", "content": ...}]; no system prompt for R1 (DeepSeek's advice).
    messages: list[dict[str, str]]
    #: True: ask the server to separate reasoning; False: ask it not to reason; None: server default.
    think: bool | None = None
    options: GenerationOptions = field(default_factory=GenerationOptions)


class ChatBackend(ABC):
    name: str
    url: str
    #: Whether this back-end can separate reasoning itself (Ollama's `think`).
    native_thinking: bool = False

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings) -> ChatBackend:
        """The back-end configured by `settings`; BackendError names the setting that is missing."""

    @abstractmethod
    def list_models(self) -> list[ModelInfo]: ...

    @abstractmethod
    def show(self, model: str) -> ModelInfo: ...

    @abstractmethod
    def chat(self, request: ChatRequest) -> Iterator[StreamPiece]:
        """Stream one reply; the last piece has done=True and stats, or StreamInterrupted is raised."""

    def loaded_memory(self, model: str) -> int | None:
        """Memory the server uses for `model` now (None: not reported by this back-end)."""
        return None

    def pull(self, model: str) -> Iterator[PullProgress]:
        raise BackendError(f"{self.name} cannot pull models; install '{model}' on the server yourself")
