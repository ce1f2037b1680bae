"""Renders the answer pipeline's events on a terminal: reasoning dimmed, then the answer,
then sources and stats."""

from __future__ import annotations

from rich.console import Console

from .chat.events import AnswerDelta, Event, Final, Notice, ReasoningDelta, SourcesFound
from .terminal_text import markup, plain


class AnswerView:
    def __init__(self, out: Console, err: Console, *, show_reasoning: bool = True) -> None:
        self.out, self.err, self.show_reasoning = out, err, show_reasoning
        self._in_reasoning = False
        self._answer_started = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, Notice):
            colour = {"info": "cyan", "warning": "yellow", "error": "red"}[event.level]
            self._newline()
            self.err.print(f"[{colour}]{event.level}:[/] {markup(event.text)}", highlight=False)
        elif isinstance(event, SourcesFound):
            where = "knowledge base and web" if event.web else "knowledge base"
            self.err.print(f"[dim]{len(event.sources)} sources from the {where}[/]", highlight=False)
        elif isinstance(event, ReasoningDelta):
            if self.show_reasoning:
                if not self._in_reasoning:
                    self.out.print("[dim italic]Thinking…[/]")
                    self._in_reasoning = True
                self.out.print(
                    plain(event.text), style="dim", end="", markup=False, highlight=False, soft_wrap=True
                )
        elif isinstance(event, AnswerDelta):
            if not self._answer_started:
                if self._in_reasoning:
                    self.out.print("\n")
                self._answer_started = True
            self.out.print(plain(event.text), end="", markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, Final):
            self._final(event)

    def _newline(self) -> None:
        if self._in_reasoning or self._answer_started:
            self.out.print()

    def _final(self, final: Final) -> None:
        if final.stats.num_ctx == 0:
            return  # the model was never asked: the error notice said why
        if not self._answer_started and final.answer:
            # Reclassified output: the "reasoning" was the answer.
            self.out.print(plain(final.answer), markup=False, highlight=False)
        self.out.print()
        if final.sources:
            self.out.print("\n[bold]Sources[/]")
            for s in final.sources:
                flag = " [red]⚠ instructions?[/]" if s.extra.get("suspicious") else ""
                self.out.print(
                    f"  [bold]\\[{markup(s.label)}][/] {markup(s.title)} [dim]{markup(s.location)}[/]{flag}",
                    highlight=False,
                )
        c = final.citations
        if c.unknown_labels:
            self.out.print(
                f"[yellow]cites sources that do not exist: {markup(', '.join(c.unknown_labels))}[/]",
                highlight=False,
            )
        for item in c.unsupported:
            self.out.print(
                f"[yellow]citation {markup(', '.join(item['labels']))} does not support:[/] "
                f"{markup(item['sentence'][:120])}",
                highlight=False,
            )
        st = final.stats
        parts = [markup(final.model)]
        if st.time_to_first_token is not None:
            parts.append(f"first token {st.time_to_first_token:.1f} s")
        if st.reasoning_seconds is not None:
            parts.append(f"thought for {st.reasoning_seconds:.1f} s")
        if st.tokens_per_second:
            parts.append(f"{st.tokens_per_second:.1f} tokens/s")
        parts.append(f"prompt {st.prompt_tokens} of {st.num_ctx} tokens")
        self.err.print("[dim]" + " · ".join(parts) + "[/]", highlight=False)
