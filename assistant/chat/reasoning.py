"""Keeping a reasoning model's thinking apart from its answer, in every form it arrives in.

- Ollama's native API (with `think`) streams reasoning in `message.thinking`.
- Older servers, OpenAI-compatible servers (llama.cpp, vLLM, LM Studio) and old templates put it
  inline in the content as `<think>…</think>`.
- Templates that open `<think>` in the prompt stream only the closing `</think>`: everything
  before it is reasoning.

`ReasoningSplitter` takes stream pieces and yields (kind, text) deltas as they come. Tags split
across pieces are handled by holding back a few characters. When a model was expected to reason
and never closes `</think>`, what looked like reasoning was the answer: `finish()` says so and
the final text is corrected (a notice tells the user).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

OPEN, CLOSE = "<think>", "</think>"
Kind = Literal["reasoning", "answer"]


@dataclass
class SplitResult:
    reasoning: str
    answer: str
    #: True when tentative reasoning turned out to be the answer (no closing tag ever came).
    reclassified: bool = False


@dataclass
class ReasoningSplitter:
    #: The model is expected to reason (R1 family, or "thinking" capability) but the server does
    #: not separate it: content before a lone `</think>` is reasoning.
    expect_inline_reasoning: bool = False
    _state: str = field(default="start", init=False)  # start | think | answer
    _pending: str = field(default="", init=False)
    _reasoning: list[str] = field(default_factory=list, init=False)
    _answer: list[str] = field(default_factory=list, init=False)
    _native: bool = field(default=False, init=False)
    _tentative: bool = field(default=False, init=False)

    def feed(self, *, thinking: str = "", content: str = "") -> Iterator[tuple[Kind, str]]:
        if thinking:
            self._native = True
            self._reasoning.append(thinking)
            yield "reasoning", thinking
        if content:
            yield from self._content(content)

    def _emit(self, kind: Kind, text: str) -> Iterator[tuple[Kind, str]]:
        if text:
            (self._reasoning if kind == "reasoning" else self._answer).append(text)
            yield kind, text

    def _content(self, text: str) -> Iterator[tuple[Kind, str]]:
        buffer = self._pending + text
        self._pending = ""
        while buffer:
            if self._state == "start":
                stripped = buffer.lstrip()
                if not stripped:
                    self._pending = buffer
                    return
                if stripped.startswith(OPEN):
                    self._state = "think"
                    buffer = stripped[len(OPEN) :]
                    continue
                if OPEN.startswith(stripped):  # "<thi" so far: wait for more
                    self._pending = buffer
                    return
                if self.expect_inline_reasoning and not self._native:
                    self._state, self._tentative = "think", True
                else:
                    self._state = "answer"
                continue
            if self._state == "think":
                end = buffer.find(CLOSE)
                if end >= 0:
                    yield from self._emit("reasoning", buffer[:end])
                    self._state, self._tentative = "answer", False
                    buffer = buffer[end + len(CLOSE) :].lstrip("\n")
                    continue
                keep = _partial_suffix(buffer, CLOSE)
                yield from self._emit("reasoning", buffer[: len(buffer) - keep])
                self._pending = buffer[len(buffer) - keep :]
                return
            # answer: a lone </think> here means everything so far was reasoning.
            end = buffer.find(CLOSE)
            if end >= 0:
                self._reasoning.extend(self._answer)
                self._answer.clear()
                yield from self._emit("reasoning", buffer[:end])
                buffer = buffer[end + len(CLOSE) :].lstrip("\n")
                continue
            keep = _partial_suffix(buffer, CLOSE)
            yield from self._emit("answer", buffer[: len(buffer) - keep])
            self._pending = buffer[len(buffer) - keep :]
            return

    def finish(self) -> SplitResult:
        """Flush held-back text; return the final reasoning and answer."""
        if self._pending:
            kind: Kind = "reasoning" if self._state == "think" else "answer"
            list(self._emit(kind, self._pending))
            self._pending = ""
        reclassified = False
        if self._state == "think" and self._tentative:
            # Expected reasoning never ended: it was the answer all along.
            self._answer = self._reasoning + self._answer
            self._reasoning = []
            reclassified = True
        return SplitResult("".join(self._reasoning).strip(), "".join(self._answer).strip(), reclassified)


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that could begin `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0
