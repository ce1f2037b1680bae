"""The main screen: the conversation, the prompt with its web switch, and the status bar."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Generator

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Switch
from textual.worker import Worker, WorkerState

from assistant.chat.events import AnswerDelta, AnswerStats, Final, Notice, ReasoningDelta, SourcesFound
from assistant.chat.prompt import Turn

from ..store import Exchange
from ..text import plain
from ..widgets.message import ChatMessage, SourceSelected
from ..widgets.prompt import PromptInput
from ..widgets.status import StatusBar
from ..widgets.welcome import ExamplePicked, Welcome
from .source import SourceScreen


class ChatScreen(Screen):
    BINDINGS = [("escape", "stop", "Stop answer")]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="transcript"):
            yield Welcome()
        with Horizontal(id="input-row"):
            yield PromptInput(id="prompt")
            yield Label("web", id="web-label")
            yield Switch(
                value=False, id="web-toggle", tooltip="Search the web for the next question (Ctrl+W)"
            )
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(PromptInput).focus()
        self.answering: Worker | None = None

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @on(Switch.Changed, "#web-toggle")
    def web_changed(self, event: Switch.Changed) -> None:
        self.status.web = event.value
        for welcome in self.query(Welcome):
            welcome.set_web(event.value)

    @property
    def welcome(self) -> Welcome | None:
        found = self.query(Welcome)
        return found.first() if found else None

    @on(PromptInput.UpFromEmpty)
    def examples_focus(self) -> None:
        if self.welcome is not None:
            self.welcome.focus_examples()

    @on(ExamplePicked)
    async def example_picked(self, event: ExamplePicked) -> None:
        self.query_one(PromptInput).focus()
        await self.ask(event.question)

    def toggle_web(self) -> None:
        toggle = self.query_one("#web-toggle", Switch)
        toggle.value = not toggle.value

    async def show_history(self, exchanges: list[Exchange]) -> None:
        transcript = self.query_one("#transcript", VerticalScroll)
        await transcript.remove_children()
        if not exchanges:
            await transcript.mount(Welcome(self.query_one("#web-toggle", Switch).value))
            self.app.refresh_overview()
        for ex in exchanges:
            message = ChatMessage(ex.question, web=ex.web)
            await transcript.mount(message)
            await message.finish(ex)
        transcript.scroll_end(animate=False)

    @on(PromptInput.Submitted)
    async def submitted(self, event: PromptInput.Submitted) -> None:
        if await self.ask(event.text):
            event.prompt.clear()

    async def ask(self, question: str) -> bool:
        """Start answering `question`; False if an answer is still streaming."""
        if self.answering is not None and self.answering.state == WorkerState.RUNNING:
            self.notify("an answer is still streaming: Escape stops it", severity="warning")
            return False
        if self.welcome is not None:
            await self.welcome.remove()
        web = self.query_one("#web-toggle", Switch).value
        message = ChatMessage(question, web=web)
        transcript = self.query_one("#transcript", VerticalScroll)
        await transcript.mount(message)
        transcript.scroll_end(animate=False)
        self.answering = self.answer(question, web, message)
        return True

    @work(exclusive=True, group="answer")
    async def answer(self, question: str, web: bool, message: ChatMessage) -> None:
        app = self.app
        transcript = self.query_one("#transcript", VerticalScroll)
        history = [Turn(ex.question, ex.answer) for ex in app.exchanges if ex.answer]
        self.status.state = "answering…"
        events = app.session.ask(question, web=web, kb=app.kb, model=app.model, history=history)
        started = time.perf_counter()
        first_reasoning: float | None = None
        final: Final | None = None
        stopped = False
        # A thread runs the pipeline and queues its events; the UI takes whatever has arrived in
        # one go and merges consecutive deltas, so a fast stream costs a few screen updates per
        # frame instead of one per token. The thread also closes the pipeline (on Escape), so the
        # generator is never touched from two threads.
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def put(item: object) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        pump = threading.Thread(target=_pump, args=(events, put, stop, app.describe), name="answer")
        pump.daemon = True
        pump.start()
        finished = False
        try:
            while not finished:
                batch = [await queue.get()]
                while not queue.empty():
                    batch.append(queue.get_nowait())
                for event in _merge_deltas(batch):
                    if event is None:
                        finished = True
                    elif isinstance(event, ReasoningDelta):
                        first_reasoning = first_reasoning or time.perf_counter()
                        await message.add_reasoning(event.text)
                    elif isinstance(event, AnswerDelta):
                        seconds = time.perf_counter() - first_reasoning if first_reasoning else None
                        await message.add_answer(event.text, seconds)
                    elif isinstance(event, Notice):
                        severity = {"info": "information", "warning": "warning", "error": "error"}[
                            event.level
                        ]
                        self.notify(plain(event.text), severity=severity, timeout=8, markup=False)
                    elif isinstance(event, SourcesFound):
                        self.status.state = f"{len(event.sources)} sources · thinking…"
                    elif isinstance(event, Final):
                        final = event
                if transcript.max_scroll_y - transcript.scroll_y < 5:
                    transcript.scroll_end(animate=False)
        except asyncio.CancelledError:
            stopped = True
            stop.set()  # the thread stops at the next event and closes the model's stream
        await self._keep(question, web, message, final, stopped, time.perf_counter() - started)

    async def _keep(
        self,
        question: str,
        web: bool,
        message: ChatMessage,
        final: Final | None,
        stopped: bool,
        seconds: float,
    ) -> None:
        """Show the finished (or stopped) answer's stats and save the exchange."""
        app = self.app
        if final is not None:
            exchange = Exchange.from_final(question, final, stopped=stopped)
        else:  # stopped before the pipeline's end: what arrived is kept
            stats = AnswerStats(total_seconds=seconds)
            exchange = Exchange(question, message.answer_text, web=web, stats=stats, model=app.model or "")
            exchange.stopped = stopped
        await message.finish(exchange)
        if final and final.asked:
            self.status.tokens_per_second = final.stats.tokens_per_second
            self.status.first_token = final.stats.time_to_first_token
            self.status.context = f"{final.stats.prompt_tokens}/{final.stats.num_ctx}"
            if not app.model:
                app.model = final.model
        self.status.state = "stopped" if stopped else ""
        if exchange.answer or stopped:
            app.save_exchange(exchange)

    def action_stop(self) -> None:
        if self.answering is not None and self.answering.state == WorkerState.RUNNING:
            self.answering.cancel()

    @on(SourceSelected)
    def open_source(self, event: SourceSelected) -> None:
        self.app.push_screen(SourceScreen(event.source))


def _pump(
    events: Generator,
    put: Callable[[object], None],
    stop: threading.Event,
    describe: Callable[[Exception], str],
) -> None:
    """Put each event of the pipeline `events`, then None; stop early when `stop` is set. This
    thread alone touches (and closes) the generator."""
    try:
        for item in events:
            put(item)
            if stop.is_set():
                break
    except Exception as exc:  # the pipeline reports failures as events; this is a bug
        put(Notice(describe(exc), "error"))
    finally:
        events.close()
        put(None)


def _merge_deltas(batch: list) -> list:
    """Consecutive reasoning or answer deltas joined into one; everything else kept in order."""
    merged: list = []
    for event in batch:
        last = merged[-1] if merged else None
        if isinstance(event, ReasoningDelta | AnswerDelta) and type(last) is type(event):
            merged[-1] = type(event)(last.text + event.text)
        else:
            merged.append(event)
    return merged
