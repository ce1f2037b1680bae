"""The answer pipeline: one call, `Assistant.ask`, streams typed events for one question.

Retrieval (knowledge base, and the web when asked) → a prompt fitted to the model's context →
the model's stream with reasoning kept apart → citations checked → stats. The CLI and the TUI
only render these events.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from ..retrieval import Retrieval, Retriever
from .backends import (
    BackendError,
    ChatBackend,
    ChatRequest,
    GenerationStats,
    ModelInfo,
    StreamInterrupted,
    ThinkingUnsupported,
)
from .catalog import R1_CATALOG, fits
from .citations import check_citations
from .events import (
    AnswerDelta,
    AnswerStats,
    CitationReport,
    Event,
    Final,
    Notice,
    ReasoningDelta,
    SourcesFound,
)
from .prompt import Turn, estimate_tokens, fit_prompt
from .reasoning import ReasoningSplitter

# Words that point back at an earlier turn: a question using them is retrieved together with the
# previous question ("他还写了哪些诗？" after a question about 杜甫).
_REFERRING = re.compile(
    r"他|她|它|这|那|其|该|此|上述|\b(he|she|it|they|this|that|these|those|his|her|its|their)\b", re.I
)


@dataclass(frozen=True)
class AskOptions:
    k: int = 6
    #: DeepSeek's recommended sampling for R1.
    temperature: float = 0.6
    top_p: float = 0.95
    #: Context window to request; None: the model's own, capped at `max_ctx`.
    num_ctx: int | None = None
    #: Largest context the machine is asked to hold (memory grows with it).
    max_ctx: int = 8192
    #: Most tokens one reply may generate; None: the server's default.
    num_predict: int | None = None
    keep_alive: str | None = None


class NoModelError(BackendError):
    pass


def is_r1(model: str) -> bool:
    return "deepseek-r1" in model.lower() or re.search(r"(^|[^a-z])r1([^a-z]|$)", model.lower()) is not None


def retrieval_query(question: str, history: Sequence[Turn]) -> str:
    """The question, with the previous one in front when it is a follow-up that refers back.

    For the local knowledge base only: the web is searched for the current question alone."""
    if not history:
        return question
    if len(question) < 40 or _REFERRING.search(question):
        return f"{history[-1].question} {question}"
    return question


def pick_default_model(installed: Sequence[ModelInfo]) -> str | None:
    """The largest installed R1 distill that fits this machine, else any installed model."""
    names = [m.name for m in installed]
    fitting = [c.tag for c in R1_CATALOG if fits(c) and c.tag in names]
    if fitting:
        return fitting[-1]
    r1 = [n for n in names if is_r1(n)]
    return (r1 or names or [None])[0]


class Assistant:
    def __init__(
        self,
        backend: ChatBackend,
        retriever_for: Callable[[str | None], Retriever | None],
        *,
        default_model: str | None = None,
        options: AskOptions | None = None,
    ) -> None:
        """`retriever_for(kb_name)` gives the retriever for a knowledge base (None: no base)."""
        self.backend = backend
        self.retriever_for = retriever_for
        self.default_model = default_model
        self.options = options or AskOptions()
        self._model_info: dict[str, ModelInfo] = {}

    def resolve_model(self, model: str | None) -> str:
        if model or self.default_model:
            return model or self.default_model  # type: ignore[return-value]
        picked = pick_default_model(self.backend.list_models())
        if picked is None:
            raise NoModelError(
                f"no model is installed in {self.backend.name} at {self.backend.url}: pull one, e.g. "
                "`assistant models pull deepseek-r1:7b`"
            )
        return picked

    def model_info(self, model: str) -> ModelInfo:
        if model not in self._model_info:
            self._model_info[model] = self.backend.show(model)
        return self._model_info[model]

    def ask(
        self,
        question: str,
        *,
        web: bool = False,
        kb: str | None = None,
        model: str | None = None,
        history: Sequence[Turn] = (),
        think: bool = True,
    ) -> Iterator[Event]:
        started = time.perf_counter()
        notices: list[str] = []

        def notice(text: str, level: str = "info") -> Notice:
            notices.append(text)
            return Notice(text, level)  # type: ignore[arg-type]

        empty_stats = AnswerStats()
        try:
            model = self.resolve_model(model)
            info = self.model_info(model)
        except BackendError as exc:
            yield notice(str(exc), "error")
            yield Final("", "", [], CitationReport(), empty_stats, model or "", web, False, tuple(notices))
            return

        retriever = self.retriever_for(kb)
        if retriever is not None:
            # Earlier turns may help the local search; only this question goes to the web.
            retrieval = retriever.search(
                retrieval_query(question, history), k=self.options.k, web=web, web_query=question
            )
        else:
            retrieval = Retrieval(query=question, web=web)
            if web:
                retrieval.notices.append("web search is not configured")
        for text in retrieval.notices:
            yield notice(text, "warning")
        yield SourcesFound(retrieval.sources, web)

        num_ctx = self.options.num_ctx or min(info.context_length or 4096, self.options.max_ctx)
        reserve = max(1024, num_ctx // 4)
        fitted = fit_prompt(question, retrieval.sources, list(history), num_ctx=num_ctx, reserve=reserve)
        for text in fitted.notices:
            yield notice(text, "warning")

        request_think: bool | None
        if info.thinking:
            request_think = bool(think)
        else:
            request_think = None
            if is_r1(model) and info.thinking is False and self.backend.native_thinking:
                yield notice(
                    f"{model}'s template does not separate its reasoning; reasoning is parsed from the "
                    f"text instead. Re-pull the model to update it: `ollama pull {model}`"
                )
        request = ChatRequest(
            model=model,
            messages=fitted.messages,
            think=request_think,
            options={
                "num_ctx": num_ctx,
                "temperature": self.options.temperature,
                "top_p": self.options.top_p,
            },
            keep_alive=self.options.keep_alive,
        )

        splitter = ReasoningSplitter(expect_inline_reasoning=is_r1(model) and request_think is None)
        first_token = first_reasoning = first_answer = None
        stats = GenerationStats()
        interrupted = False
        sent_at = time.perf_counter()
        attempts = [request]
        while attempts:
            current = attempts.pop()
            try:
                for piece in self.backend.chat(current):
                    for kind, text in splitter.feed(thinking=piece.thinking, content=piece.content):
                        now = time.perf_counter()
                        first_token = first_token or now
                        if kind == "reasoning":
                            first_reasoning = first_reasoning or now
                            yield ReasoningDelta(text)
                        else:
                            first_answer = first_answer or now
                            yield AnswerDelta(text)
                    if piece.done and piece.stats:
                        stats = piece.stats
            except ThinkingUnsupported as exc:
                if current.think is None or first_token:
                    yield notice(str(exc), "error")
                    continue
                yield notice(
                    f"{model} does not support separate reasoning ({exc}); retried without it. "
                    f"Re-pull the model to fix this: `ollama pull {model}`",
                    "warning",
                )
                splitter = ReasoningSplitter(expect_inline_reasoning=is_r1(model))
                attempts.append(replace(current, think=None))
                sent_at = time.perf_counter()
            except StreamInterrupted as exc:
                interrupted = True
                yield notice(f"the answer was cut off ({exc}); what arrived is kept", "error")
            except BackendError as exc:
                yield notice(str(exc), "error")
                interrupted = first_token is not None

        split = splitter.finish()
        if split.reclassified:
            yield notice(
                "the model never closed its reasoning (no </think>); its whole output is shown as the answer"
            )
        if (
            stats.prompt_tokens
            and stats.prompt_tokens >= num_ctx - 8
            and fitted.estimated_tokens > stats.prompt_tokens
        ):
            yield notice(
                f"the server cut the prompt to its {num_ctx}-token context window; "
                "some sources were not seen",
                "warning",
            )
        answer = split.answer + ("\n\n[answer interrupted]" if interrupted and split.answer else "")
        citations = check_citations(split.answer, fitted.sources)
        answer_stats = AnswerStats(
            time_to_first_token=(first_token - sent_at) if first_token else None,
            reasoning_seconds=((first_answer or time.perf_counter()) - first_reasoning)
            if first_reasoning
            else None,
            tokens_per_second=stats.tokens_per_second,
            prompt_tokens=stats.prompt_tokens or fitted.estimated_tokens,
            eval_tokens=stats.eval_tokens or estimate_tokens(split.reasoning + split.answer),
            num_ctx=num_ctx,
            total_seconds=time.perf_counter() - started,
        )
        yield Final(
            answer=answer,
            reasoning=split.reasoning,
            sources=fitted.sources,
            citations=citations,
            stats=answer_stats,
            model=model,
            web=web,
            interrupted=interrupted,
            notices=tuple(notices),
        )
