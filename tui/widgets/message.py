"""One exchange in the transcript: the question, the reasoning (collapsible), the streamed
answer, its sources and stats."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Collapsible, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from assistant.chat.presentation import (
    FLAGGED_MARK,
    SUSPICIOUS_MARK,
    citation_problems,
    close_code_block,
    reasoning_title,
    stats_parts,
)
from assistant.conversations import Exchange
from assistant.retrieval.sources import Source

from ..text import StreamCleaner, markup, plain


class SourceSelected(Message):
    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source


class Reasoning(Collapsible):
    """The model's thinking: live and open while it thinks, folded once the answer starts."""

    def __init__(self) -> None:
        self.body = Markdown("", classes="reasoning-text")
        super().__init__(self.body, title="Thinking…", collapsed=False, classes="reasoning")
        self.stream = None
        self.cleaner = StreamCleaner()

    async def add(self, text: str) -> None:
        if self.stream is None:
            self.stream = Markdown.get_stream(self.body)
        await self.stream.write(self.cleaner.feed(text))

    async def finish(self, seconds: float | None) -> None:
        if self.stream is not None:
            if rest := self.cleaner.finish():
                await self.stream.write(rest)
            await self.stream.stop()
            self.stream = None
        self.title = reasoning_title(seconds)
        self.collapsed = True


class SourceList(OptionList):
    def __init__(self, sources: list[Source], flagged: set[str]) -> None:
        self.sources = sources
        options = []
        for s in sources:
            mark = f" [red]{FLAGGED_MARK}[/]" if s.label in flagged else ""
            warn = f" [red]{SUSPICIOUS_MARK}[/]" if s.extra.get("suspicious") else ""
            prompt = markup(
                f"[b]\\[$label][/] $title [dim]$where[/]{mark}{warn}",
                label=s.label,
                title=s.title,
                where=_where(s),
            )
            options.append(Option(prompt, id=s.label))
        super().__init__(*options, classes="sources")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        source = next(s for s in self.sources if s.label == event.option.id)
        self.post_message(SourceSelected(source))


def _where(source: Source) -> str:
    return source.citation  # `contract.pdf p. 3`, or the web page's host


class ChatMessage(Vertical):
    """Built empty and filled as events arrive, or filled at once from history."""

    def __init__(self, question: str, *, web: bool) -> None:
        super().__init__(classes="exchange")
        self.question = question
        self.web = web
        self.reasoning: Reasoning | None = None
        self.answer = Markdown("", classes="answer")
        self.answer_stream = None
        self.answer_text = ""
        self.answer_cleaner = StreamCleaner()
        self.stats = Static("", classes="stats")
        #: Why this question got no answer (then Ctrl+R asks it again); "" when it did.
        self.error = ""

    def compose(self) -> ComposeResult:
        badge = " [green]🌐 web[/]" if self.web else ""
        yield Static(markup(f"[b]You[/]{badge}\n$question", question=self.question), classes="question")
        yield self.answer
        yield self.stats

    async def add_reasoning(self, text: str) -> None:
        if self.reasoning is None:
            self.reasoning = Reasoning()
            await self.mount(self.reasoning, before=self.answer)
        await self.reasoning.add(text)

    async def add_answer(self, text: str, reasoning_seconds: float | None) -> None:
        if self.reasoning is not None and not self.reasoning.collapsed:
            await self.reasoning.finish(reasoning_seconds)
        if self.answer_stream is None:
            self.answer_stream = Markdown.get_stream(self.answer)
        self.answer_text += text
        await self.answer_stream.write(self.answer_cleaner.feed(text))

    async def finish(self, exchange: Exchange) -> None:
        """Show the finished exchange: the whole answer (also one loaded from history), its
        sources with flagged citations marked, the stats line, or the error that stopped it."""
        stats, citations = exchange.stats, exchange.citations
        if self.answer_stream is not None:
            if rest := self.answer_cleaner.finish():
                await self.answer_stream.write(rest)
            await self.answer_stream.stop()
            self.answer_stream = None
        if self.reasoning is not None and (self.reasoning.stream is not None or not self.reasoning.collapsed):
            await self.reasoning.finish(stats.reasoning_seconds)
        elif self.reasoning is not None and stats.reasoning_seconds is not None:
            # Folded when the answer began, by the screen's clock: the stats line's own measure wins.
            self.reasoning.title = reasoning_title(stats.reasoning_seconds)
        if exchange.stopped:  # an open code block is closed first, or the mark would sit inside it
            await self.answer.update(close_code_block(plain(exchange.answer)) + "\n\n*(stopped)*")
        elif exchange.answer != self.answer_text:  # reclassified, or loaded from history
            await self.answer.update(plain(exchange.answer))
        if exchange.reasoning and self.reasoning is None:
            self.reasoning = Reasoning()
            await self.mount(self.reasoning, before=self.answer)
            await self.reasoning.body.update(plain(exchange.reasoning))
            await self.reasoning.finish(stats.reasoning_seconds)
        if exchange.sources:
            await self.mount(SourceList(exchange.sources, citations.flagged_labels), before=self.stats)
        self.error = exchange.error
        if exchange.error:
            failed = markup("[b red]✗ $error[/]\n[dim]Ctrl+R asks it again[/]", error=exchange.error)
            self.stats.update(failed)
            return
        parts = [markup("$part", part=part) for part in stats_parts(exchange.model, stats)]
        parts += [markup("[red]$problem[/]", problem=p) for p in citation_problems(citations)]
        self.stats.update(Content(" · ").join(parts))
