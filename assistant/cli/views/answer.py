"""Renders the answer pipeline's events on a terminal: reasoning dimmed, then the answer,
then sources and stats."""

from __future__ import annotations

from rich.console import Console
from rich.status import Status

from ...chat.events import AnswerDelta, Event, Final, Notice, Progress, ReasoningDelta, SourcesFound
from ...chat.presentation import FLAGGED_MARK, SUSPICIOUS_MARK, citation_problems, counted, stats_parts
from .terminal_text import StreamCleaner, plain, styled


class AnswerView:
    """Prints one answer's events as they come. On a terminal, a status line (a spinner on
    stderr) says what is happening until output starts: searching, then waiting for the model;
    it goes before anything else is printed."""

    def __init__(self, out: Console, err: Console, *, show_reasoning: bool = True) -> None:
        self.out, self.err, self.show_reasoning = out, err, show_reasoning
        self._in_reasoning = False
        self._answer_started = False
        self._clean_reasoning, self._clean_answer = StreamCleaner(), StreamCleaner()
        self._status: Status | None = None

    def begin(self, *, kb: str, web: bool) -> None:
        """Say at once what comes first (before anything slow loads): the search."""
        self._say(f"searching the knowledge base '{kb}'" + (" and the web" if web else "") + "…")

    def close(self) -> None:
        """Take the status line away (the answer ended, failed or was interrupted)."""
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _say(self, text: str) -> None:
        if not self.err.is_terminal:
            return  # a status line is for people watching; logs get the events' own lines
        if self._status is None:
            self._status = self.err.status(plain(text), spinner="dots")
            self._status.start()
        else:
            self._status.update(plain(text))

    def __call__(self, event: Event) -> None:
        if isinstance(event, Progress):  # the status line says it; a log gets it as a line
            if not self.err.is_terminal:
                self.err.print(styled((event.text, "dim")), highlight=False)
            elif self._status is None:
                self._say(event.text)
            return
        self.close()
        if isinstance(event, Notice):
            colour = {"info": "cyan", "warning": "yellow", "error": "red"}[event.level]
            self._newline()
            self.err.print(styled((f"{event.level}:", colour), " ", event.text), highlight=False)
        elif isinstance(event, SourcesFound):
            where = "knowledge base and web" if event.web else "knowledge base"
            self.err.print(
                f"[dim]{counted(len(event.sources), 'source')} from the {where}[/]", highlight=False
            )
            self._say("waiting for the model's first words…")
        elif isinstance(event, ReasoningDelta):
            if self.show_reasoning:
                if not self._in_reasoning:
                    self.out.print("[dim italic]Thinking…[/]")
                    self._in_reasoning = True
                self.out.print(
                    self._clean_reasoning.feed(event.text),
                    style="dim",
                    end="",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
        elif isinstance(event, AnswerDelta):
            if not self._answer_started:
                if self._in_reasoning:
                    self.out.print("\n")
                self._answer_started = True
            self.out.print(
                self._clean_answer.feed(event.text), end="", markup=False, highlight=False, soft_wrap=True
            )
        elif isinstance(event, Final):
            self._final(event)

    def _newline(self) -> None:
        if self._in_reasoning or self._answer_started:
            self.out.print()

    def _final(self, final: Final) -> None:
        for cleaner, style in ((self._clean_reasoning, "dim"), (self._clean_answer, "")):
            rest = cleaner.finish()
            if rest:
                self.out.print(rest, style=style, end="", markup=False, highlight=False, soft_wrap=True)
        if not final.asked:
            return  # the model was never asked: the error notice said why
        if not self._answer_started and final.answer:
            # Reclassified output: the "reasoning" was the answer.
            self.out.print(plain(final.answer), markup=False, highlight=False)
        self.out.print()
        c = final.citations
        flagged = c.flagged_labels
        if final.sources:
            self.out.print("\n[bold]Sources[/]")
            for s in final.sources:
                marks = [(f" {FLAGGED_MARK}", "yellow")] if s.label in flagged else []
                if s.extra.get("suspicious"):
                    marks.append((f" {SUSPICIOUS_MARK}", "red"))
                # One line per source, however long its path: the terminal folds it on screen, and
                # a copied path or a grep for the label gets the whole of it.
                self.out.print(
                    styled("  ", (f"[{s.label}]", "bold"), " ", s.citation, "  ", (s.title, "dim"), *marks),
                    highlight=False,
                    soft_wrap=True,
                )
        for problem in citation_problems(c):
            self.out.print(styled((problem, "yellow")), highlight=False)
        for item in c.unsupported:
            self.out.print(
                styled(
                    (f"  {', '.join(item['labels'])} does not support:", "yellow"),
                    " ",
                    item["sentence"][:120],
                ),
                highlight=False,
            )
        parts = stats_parts(final.model, final.stats)
        self.err.print(styled((" · ".join(parts), "dim")), highlight=False)
