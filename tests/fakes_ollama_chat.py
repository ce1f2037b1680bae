"""One chat with the fake Ollama: the request as recorded, the reply a test scripts, and how it goes
out: token-like pieces, reasoning in `message.thinking` or inline in the content, a chunked NDJSON
stream (or one JSON object) with Ollama's fields and timings, cut or failed where a script says."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes_loopback import Cut, RecordedRequest, Response
from fakes_ollama_go import timestamp
from fakes_ollama_models import FakeModel, Style


@dataclass(frozen=True)
class OllamaRequest(RecordedRequest):
    """A request to the fake Ollama, with accessors for the fields of a chat body."""

    def _get(self, key: str, default: Any = None) -> Any:
        return self.json.get(key, default) if isinstance(self.json, dict) else default

    @property
    def model(self) -> str | None:
        return self._get("model")

    @property
    def messages(self) -> list[dict]:
        return self._get("messages") or []

    @property
    def options(self) -> dict:
        return self._get("options") or {}

    @property
    def think(self) -> bool | str | None:
        """The `think` field as sent; None when it was left out."""
        return self._get("think")

    @property
    def stream(self) -> bool:
        return self._get("stream") is not False

    @property
    def prompt(self) -> str:
        """The content of the last user message."""
        users = [m for m in self.messages if m.get("role") == "user"]
        return str(users[-1].get("content") or "") if users else ""

    @property
    def history(self) -> list[dict]:
        """Every message before the last one."""
        return self.messages[:-1]


# --- Tokens -------------------------------------------------------------------------------------

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(
    r"</?think>"  # special tokens in the R1 distills' vocabulary: never split
    r"|\n+"
    rf"|[ \t]?[{_CJK}]"  # one CJK character per token
    r"|[ \t]?\d"  # Qwen's tokenizer splits numbers into digits
    rf"|[ \t]?(?:(?![{_CJK}])[^\W\d_])+"  # a word with its leading space
    r"|[ \t]*(?:(?!</?think>)[^\w\s]){1,3}"  # punctuation, a few marks at most ("**", "...")
    r"|[ \t]+"
    r"|.",
    re.DOTALL,
)
_LONGEST_PIECE = 6


def tokens(text: str) -> list[str]:
    """Token-like pieces of `text` (words with their leading space, long words cut into pieces of a
    few characters, digits and CJK characters one by one, `<think>`/`</think>` whole); they join back
    to `text`. The fake streams one piece per chunk and counts them as tokens."""
    pieces: list[str] = []
    for piece in _TOKEN.findall(text):
        while len(piece) > _LONGEST_PIECE and piece.strip().isalpha():
            pieces.append(piece[:_LONGEST_PIECE])
            piece = piece[_LONGEST_PIECE:]
        pieces.append(piece)
    return pieces


def prompt_tokens(messages: list[dict]) -> int:
    """What the fake reports as `prompt_eval_count` before the context window cuts it: the tokens of
    every message plus a few for the chat template's role markers."""
    return 2 + sum(4 + len(tokens(str(m.get("content") or ""))) for m in messages)


# --- Replies ------------------------------------------------------------------------------------


@dataclass
@dataclass
class Reply:
    """What a model answers to one chat request."""

    answer: str = ""
    reasoning: str = ""
    #: "native": reasoning in `message.thinking` chunks (only when thinking is on), then the answer
    #: in `message.content`; "inline": content is `<think>\n...\n</think>\n\n` + answer (older servers
    #: and templates); "close-only": content is reasoning + `\n</think>\n\n` + answer. Inline styles
    #: ignore the think flag, as the servers that produce them do; no reasoning means no tags.
    #: None: the model's style.
    style: Style | None = None
    #: Tokens per second for `eval_duration`; None: the model's.
    tokens_per_second: float | None = None
    #: Seconds to wait before each chunk.
    delay: float = 0.0
    #: Close the connection after this many chunks, without a final `done` line.
    cut_after: int | None = None
    #: Fail with this message: HTTP 500 before anything is sent, or, with `error_after`, an
    #: NDJSON `{"error": ...}` line after that many chunks (as the real server reports a runner crash).
    error: str | None = None
    error_after: int | None = None
    #: Override the final `done_reason` ("stop", or "length" when `options.num_predict` cut it).
    done_reason: str | None = None
    #: Stream fixed-size pieces of this many characters instead of token-like pieces (then tags
    #: like `</think>` can be split across chunks, as some proxies do).
    chunk_size: int | None = None


ReplyScript = Reply | str | Callable[["RecordedRequest"], "Reply | str"]


ReplyScript = Reply | str | Callable[[OllamaRequest], "Reply | str"]


def default_reply(model: FakeModel, request: OllamaRequest) -> Reply:
    """What a model answers when nothing is scripted for it: an answer that names it."""
    reasoning = f"Okay, the user asks: {request.prompt[:200]}. Let me answer briefly."
    return Reply(reasoning=reasoning if model.thinking else "", answer=f"This is the answer of {model.name}.")


def pieces(reply: Reply, style: Style, thinking: bool) -> list[tuple[str, str]]:
    """(field, text) of each chunk, field being "thinking" or "content"."""

    def split(text: str) -> list[str]:
        if reply.chunk_size:
            return [text[i : i + reply.chunk_size] for i in range(0, len(text), reply.chunk_size)]
        return tokens(text)

    reasoning, answer = reply.reasoning, reply.answer
    if style == "native":
        thought = [("thinking", t) for t in split(reasoning)] if thinking else []
        return thought + [("content", t) for t in split(answer)]
    if reasoning and style == "inline":
        answer = f"<think>\n{reasoning}\n</think>\n\n{answer}"
    elif reasoning:
        answer = f"{reasoning}\n</think>\n\n{answer}"
    return [("content", t) for t in split(answer)]


# --- The wire -----------------------------------------------------------------------------------


def error(response: Response, status: int, message: str) -> None:
    """An error as Ollama reports one: `{"error": message}`."""
    response.json(status, {"error": message})


def line(response: Response, obj: Any) -> None:
    """One NDJSON line of a chunked stream (Go's net/http streams chunked)."""
    response.chunk(json.dumps(obj, ensure_ascii=False).encode() + b"\n", "application/x-ndjson")


def chunk(name: str, message: dict, *, done_reason: str | None = None, **metrics: int) -> dict:
    """One chat chunk; the final one (with a `done_reason`) carries the timings."""
    out: dict[str, Any] = {"model": name, "created_at": timestamp(), "message": message}
    out["done"] = done_reason is not None
    if done_reason is not None:
        out["done_reason"] = done_reason
    return out | metrics


@dataclass
class Turn:
    """One chat answer ready to go out."""

    name: str
    reply: Reply
    pieces: list[tuple[str, str]]
    done_reason: str
    #: The final chunk's timings and counts (Go's omitempty: no zero values).
    metrics: dict[str, int]


def stream(turn: Turn, response: Response, stopping: threading.Event) -> None:
    """The turn as a chunked NDJSON stream, cut or failed where its reply says."""
    reply = turn.reply
    for index, (kind, text) in enumerate(turn.pieces):
        if index == reply.cut_after:
            raise Cut
        if index == reply.error_after:
            break
        if reply.delay and stopping.wait(reply.delay):
            raise Cut
        message = {"role": "assistant", "content": text if kind == "content" else ""}
        if kind == "thinking":
            message["thinking"] = text
        line(response, chunk(turn.name, message))
    else:
        if reply.cut_after is not None:
            raise Cut
    if reply.error_after is not None:
        line(response, {"error": reply.error})
    else:
        final = {"role": "assistant", "content": ""}
        line(response, chunk(turn.name, final, done_reason=turn.done_reason, **turn.metrics))
    response.end()


def whole(turn: Turn, response: Response, stopping: threading.Event) -> None:
    """The turn as one JSON object (`stream: false`)."""
    reply = turn.reply
    if reply.cut_after is not None:
        raise Cut  # the server dies before answering
    if reply.error_after is not None:
        error(response, 500, reply.error)
        return
    if reply.delay and stopping.wait(reply.delay * len(turn.pieces)):
        raise Cut
    message = {"role": "assistant", "content": "".join(t for k, t in turn.pieces if k == "content")}
    if thought := "".join(t for k, t in turn.pieces if k == "thinking"):
        message["thinking"] = thought
    response.json(200, chunk(turn.name, message, done_reason=turn.done_reason, **turn.metrics))
