"""The answer pipeline: one call, `Assistant.ask`, streams typed events for one question.

Retrieval (knowledge base, and the web when asked) → a prompt fitted to the model's context →
the model's stream with reasoning kept apart → citations checked → stats. The CLI and the TUI
only render these events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from vectorstore.errors import AssistantError

from .backends import (
    BackendError,
    ChatBackend,
    ChatRequest,
    GenerationOptions,
    GenerationStats,
    ModelInfo,
    StreamInterrupted,
    ThinkingUnsupported,
)
from .catalog import R1_CATALOG, fits, is_r1
from .citations import check_citations
from .events import (
    AnswerDelta,
    AnswerStats,
    Event,
    Final,
    Notice,
    Outcome,
    Progress,
    ReasoningDelta,
    SourcesFound,
)
from .followups import carries_a_noun, contextual_query, fuse_turn
from .prompt import Turn, estimate_tokens, fit_prompt
from .reasoning import ReasoningSplitter

if TYPE_CHECKING:  # retrieval (NumPy and more) loads with the first search, not before the first event
    from ..retrieval import Retrieval, Retriever
    from ..settings import Settings


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
    #: How long Ollama keeps the model loaded after a reply; None: the server's default.
    keep_alive: str | None = None
    #: Memory (GiB) the default model must fit in; None: this machine's.
    memory_gib: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AskOptions:
        """The one place settings become answer and request options."""
        return cls(
            num_ctx=settings.num_ctx,
            max_ctx=settings.max_ctx,
            num_predict=settings.num_predict,
            keep_alive=settings.keep_alive,
        )

    def generation(self, num_ctx: int) -> GenerationOptions:
        """What every request for an answer asks of the model server."""
        return GenerationOptions(
            num_ctx=num_ctx,
            num_predict=self.num_predict,
            temperature=self.temperature,
            top_p=self.top_p,
            keep_alive=self.keep_alive,
        )


class NoModelError(BackendError):
    pass


def retrieval_query(question: str, history: Sequence[Turn]) -> str:
    """What the local knowledge base is searched for: the question alone when it names its own
    topic (a change of topic retrieves like a new question), with the questions it continues
    when it depends on them ("它的作者是谁？"; see `followups`).

    For the local knowledge base only: the web is searched for the current question alone."""
    return contextual_query(question, history)


def retrieve_turn(
    retriever: Retriever, question: str, history: Sequence[Turn], *, k: int, web: bool = False
) -> Retrieval:
    """The sources for one turn of a chat. A question that names its own topic is searched
    alone; one that depends on the conversation with the questions it continues, and, when it
    refers back with a noun of its own ("该漫画…"), alone as well, the two fused
    (`followups.carries_a_noun`, `followups.fuse_turn`). Earlier turns only help the local
    knowledge base: the web is searched for this question alone."""
    query = retrieval_query(question, history)
    if query == question:
        return retriever.search(question, k=k, web=web)
    if not carries_a_noun(question):
        return retriever.search(query, k=k, web=web, web_query=question)
    retrieval = retriever.search(query, k=2 * k, web=web, web_query=question)
    alone = retriever.search(question, k=2 * k)
    retrieval.sources = fuse_turn(retrieval.sources, alone.sources, k)
    return retrieval


def pick_default_model(installed: Sequence[ModelInfo], memory_gib: float | None = None) -> str | None:
    """The largest installed R1 distill that fits in `memory_gib` (None: this machine's memory),
    else any installed R1, else any installed model."""
    names = [m.name for m in installed]
    fitting = [c.tag for c in R1_CATALOG if fits(c, memory_gib) and c.tag in names]
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
        picked = pick_default_model(self.backend.list_models(), self.options.memory_gib)
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
        """Answer `question`: retrieve, fit the prompt, stream the model's reply, check it.

        Every failure a user can act on (no model, a server down, a broken knowledge base,
        embedder or reranker) ends in a `Notice` and a `Final` saying what happened; this
        generator raises only for bugs."""
        run = _Run(question=question, web=web, history=tuple(history))
        try:
            model = self.resolve_model(model)
            info = self.model_info(model)
            retrieval = self._retrieve(run, kb)
        except AssistantError as exc:
            run.notice(str(exc), "error")
            yield from run.pending()
            yield run.final(model=model or "", outcome="not_asked")
            return
        if retrieval.nothing_left:
            # Every part asked for failed: no answer from nothing, with what failed and why.
            run.notice(
                f"no answer: nothing to answer from ({', '.join(retrieval.failed)} unavailable)", "error"
            )
            yield from run.pending()
            yield run.final(model=model, outcome="not_asked")
            return
        yield from run.pending()
        yield SourcesFound(retrieval.sources, web)
        yield Progress(f"asking {model}…")

        fitted, num_ctx = self._fit(run, info, retrieval)
        request = self._request(run, model, info, fitted, num_ctx, think)
        yield from run.pending()

        reply = yield from self._stream(run, request)
        self._check_truncation(run, reply, fitted, num_ctx)
        yield from run.pending()
        yield run.final(
            model=model,
            outcome="interrupted" if reply.interrupted else "answered",
            answer=reply.answer,
            reasoning=reply.reasoning,
            sources=fitted.sources,
            citations=check_citations(reply.split_answer, fitted.sources),
            stats=reply.stats(run, fitted, num_ctx),
        )

    # --- the steps, in order --------------------------------------------------------------
    def _retrieve(self, run: _Run, kb: str | None) -> Retrieval:
        from ..retrieval import Retrieval

        retriever = self.retriever_for(kb)
        if retriever is None:
            retrieval = Retrieval(query=run.question, web=run.web)
            if run.web:
                retrieval.notices.append("web search is not configured")
        else:
            retrieval = retrieve_turn(retriever, run.question, run.history, k=self.options.k, web=run.web)
        for text in retrieval.notices:
            run.notice(text, "warning")
        return retrieval

    def _fit(self, run: _Run, info: ModelInfo, retrieval: Retrieval):
        num_ctx = self.options.num_ctx or min(info.context_length or 4096, self.options.max_ctx)
        reserve = max(1024, num_ctx // 4)
        fitted = fit_prompt(
            run.question, retrieval.sources, list(run.history), num_ctx=num_ctx, reserve=reserve
        )
        for text in fitted.notices:
            run.notice(text, "warning")
        return fitted, num_ctx

    def _request(self, run: _Run, model: str, info: ModelInfo, fitted, num_ctx: int, think: bool):
        """The request, with thinking asked for where the model's template can separate it."""
        request_think: bool | None = bool(think) if info.thinking else None
        if info.thinking is False and is_r1(model) and self.backend.native_thinking:
            run.notice(
                f"{model}'s template does not separate its reasoning; reasoning is parsed from the "
                f"text instead. Re-pull the model to update it: `ollama pull {model}`"
            )
        return ChatRequest(
            model=model,
            messages=fitted.messages,
            think=request_think,
            options=self.options.generation(num_ctx),
        )

    def _stream(self, run: _Run, request: ChatRequest) -> Iterator[Event]:
        """Stream the reply as deltas; retry once without `think` if the model cannot separate
        reasoning. Returns the `_Reply`."""
        reply = _Reply(
            ReasoningSplitter(expect_inline_reasoning=is_r1(request.model) and request.think is None)
        )
        attempts = [request]
        while attempts:
            current = attempts.pop()
            try:
                for piece in self.backend.chat(current):
                    for kind, text in reply.splitter.feed(thinking=piece.thinking, content=piece.content):
                        yield reply.delta(kind, text)
                    if piece.done and piece.stats:
                        reply.server_stats = piece.stats
            except ThinkingUnsupported as exc:
                if current.think is None or reply.first_token:
                    run.notice(str(exc), "error")
                    yield from run.pending()
                    continue
                run.notice(
                    f"{current.model} does not support separate reasoning ({exc}); retried without it. "
                    f"Re-pull the model to fix this: `ollama pull {current.model}`",
                    "warning",
                )
                yield from run.pending()
                reply.restart(ReasoningSplitter(expect_inline_reasoning=is_r1(current.model)))
                attempts.append(replace(current, think=None))
            except StreamInterrupted as exc:
                reply.interrupted = True
                run.notice(f"the answer was cut off ({exc}); what arrived is kept", "error")
            except BackendError as exc:
                run.notice(str(exc), "error")
                reply.interrupted = reply.first_token is not None
            yield from run.pending()
        reply.finish()
        if reply.reclassified:
            run.notice(
                "the model never closed its reasoning (no </think>); its whole output is shown as the answer"
            )
        yield from run.pending()
        return reply

    def _check_truncation(self, run: _Run, reply: _Reply, fitted, num_ctx: int) -> None:
        """A prompt the server cut to its context window anyway (it says so only by its count)."""
        prompt_tokens = reply.server_stats.prompt_tokens
        if prompt_tokens and prompt_tokens >= num_ctx - 8 and fitted.estimated_tokens > prompt_tokens:
            run.notice(
                f"the server cut the prompt to its {num_ctx}-token context window; "
                "some sources were not seen",
                "warning",
            )


@dataclass
class _Run:
    """One question's state across the steps: what it asked, when it started, what was noticed."""

    question: str
    web: bool
    history: tuple[Turn, ...]
    started: float = field(default_factory=time.perf_counter)
    notices: list[str] = field(default_factory=list)
    _unsent: list[Notice] = field(default_factory=list)

    def notice(self, text: str, level: str = "info") -> Notice:
        """Record a notice; the step's caller yields it with `pending()`."""
        self.notices.append(text)
        event = Notice(text, level)  # type: ignore[arg-type]
        self._unsent.append(event)
        return event

    def pending(self) -> Iterator[Notice]:
        """The notices recorded by steps that do not stream, not yet yielded."""
        unsent, self._unsent = self._unsent, []
        yield from unsent

    def final(self, *, model: str, outcome: Outcome, **fields) -> Final:
        self._unsent.clear()
        fields.setdefault("stats", AnswerStats(total_seconds=time.perf_counter() - self.started))
        return Final(model=model, web=self.web, outcome=outcome, notices=tuple(self.notices), **fields)


class _Reply:
    """The model's reply as it streams: reasoning kept apart, first-token times, server counters."""

    def __init__(self, splitter: ReasoningSplitter) -> None:
        self.splitter = splitter
        self.sent_at = time.perf_counter()
        self.first_token: float | None = None
        self.first_reasoning: float | None = None
        self.first_answer: float | None = None
        self.server_stats = GenerationStats()
        self.interrupted = False
        self.reasoning = self.split_answer = ""
        self.reclassified = False

    def delta(self, kind: str, text: str) -> Event:
        now = time.perf_counter()
        self.first_token = self.first_token or now
        if kind == "reasoning":
            self.first_reasoning = self.first_reasoning or now
            return ReasoningDelta(text)
        self.first_answer = self.first_answer or now
        return AnswerDelta(text)

    def restart(self, splitter: ReasoningSplitter) -> None:
        """A retry: a new splitter, and the clock starts again from the new request."""
        self.splitter = splitter
        self.sent_at = time.perf_counter()

    def finish(self) -> None:
        split = self.splitter.finish()
        self.reasoning, self.split_answer, self.reclassified = (
            split.reasoning,
            split.answer,
            split.reclassified,
        )

    @property
    def answer(self) -> str:
        marked = self.interrupted and self.split_answer
        return self.split_answer + ("\n\n[answer interrupted]" if marked else "")

    def stats(self, run: _Run, fitted, num_ctx: int) -> AnswerStats:
        reasoning_end = self.first_answer or time.perf_counter()
        return AnswerStats(
            time_to_first_token=(self.first_token - self.sent_at) if self.first_token else None,
            reasoning_seconds=(reasoning_end - self.first_reasoning) if self.first_reasoning else None,
            tokens_per_second=self.server_stats.tokens_per_second,
            prompt_tokens=self.server_stats.prompt_tokens or fitted.estimated_tokens,
            eval_tokens=self.server_stats.eval_tokens or estimate_tokens(self.reasoning + self.split_answer),
            num_ctx=num_ctx,
            total_seconds=time.perf_counter() - run.started,
        )
