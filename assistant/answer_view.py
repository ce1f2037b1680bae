"""Renders the answer pipeline's events on a terminal: reasoning dimmed, then the answer,
then sources and stats."""

from __future__ import annotations

from rich.console import Console

from .chat.events import AnswerDelta, Event, Final, Notice, ReasoningDelta, SourcesFound


class AnswerView:
    def __init__(self, out: Console, err: Console, *, show_reasoning: bool = True) -> None:
        self.out, self.err, self.show_reasoning = out, err, show_reasoning
        self._in_reasoning = False
        self._answer_started = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, Notice):
            colour = {"info": "cyan", "warning": "yellow", "error": "red"}[event.level]
            self._newline()
            self.err.print(f"[{colour}]{event.level}:[/] {event.text}", highlight=False)
        elif isinstance(event, SourcesFound):
            where = "knowledge base and web" if event.web else "knowledge base"
            self.err.print(f"[dim]{len(event.sources)} sources from the {where}[/]", highlight=False)
        elif isinstance(event, ReasoningDelta):
            if self.show_reasoning:
                if not self._in_reasoning:
                    self.out.print("[dim italic]Thinking…[/]")
                    self._in_reasoning = True
                self.out.print(event.text, style="dim", end="", markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, AnswerDelta):
            if not self._answer_started:
                if self._in_reasoning:
                    self.out.print("\n")
                self._answer_started = True
            self.out.print(event.text, end="", markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, Final):
            self._final(event)

    def _newline(self) -> None:
        if self._in_reasoning or self._answer_started:
            self.out.print()

    def _final(self, final: Final) -> None:
        if not final.asked:
            return  # the model was never asked: the error notice said why
        if not self._answer_started and final.answer:
            # Reclassified output: the "reasoning" was the answer.
            self.out.print(final.answer, markup=False, highlight=False)
        self.out.print()
        if final.sources:
            self.out.print("\n[bold]Sources[/]")
            for s in final.sources:
                self.out.print(f"  [bold]\\[{s.label}][/] {s.title} [dim]{s.location}[/]", highlight=False)
        c = final.citations
        if c.unknown_labels:
            self.out.print(f"[yellow]cites sources that do not exist: {', '.join(c.unknown_labels)}[/]")
        for item in c.unsupported:
            self.out.print(
                f"[yellow]citation {', '.join(item['labels'])} does not support:[/] {item['sentence'][:120]}",
                highlight=False,
            )
        st = final.stats
        parts = [final.model]
        if st.time_to_first_token is not None:
            parts.append(f"first token {st.time_to_first_token:.1f} s")
        if st.reasoning_seconds is not None:
            parts.append(f"thought for {st.reasoning_seconds:.1f} s")
        if st.tokens_per_second:
            parts.append(f"{st.tokens_per_second:.1f} tokens/s")
        parts.append(f"prompt {st.prompt_tokens} of {st.num_ctx} tokens")
        self.err.print("[dim]" + " · ".join(parts) + "[/]", highlight=False)
