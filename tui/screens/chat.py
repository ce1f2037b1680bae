"""The main screen: the conversation, the prompt with its web switch, and the status bar."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Switch
from textual.worker import Worker, WorkerState

from assistant.chat.events import (
    AnswerDelta,
    AnswerStats,
    Final,
    Notice,
    Progress,
    ReasoningDelta,
    SourcesFound,
)
from assistant.chat.presentation import counted
from assistant.chat.prompt import Turn
from assistant.conversations import Exchange

from ..text import plain
from ..widgets.message import ChatMessage, SourceSelected
from ..widgets.prompt import PromptInput
from ..widgets.status import StatusBar
from ..widgets.welcome import ExamplePicked, Welcome
from .source import SourceScreen


class ChatScreen(Screen):
    # Escape is in F1's list, not the footer: the footer keeps its room for F1-F4 at 80 columns.
    BINDINGS = [Binding("escape", "stop", "Stop answer", show=False)]

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
        self.load_question_history()

    @work(thread=True, group="question-history")
    def load_question_history(self) -> None:
        try:
            questions = self.app.session.question_history()
        except Exception:  # noqa: BLE001 - an unreadable history costs Up its memory, nothing else
            return
        prompt = self.query_one(PromptInput)
        self.app.call_from_thread(setattr, prompt, "questions", questions + prompt.questions)

    def on_screen_resume(self) -> None:
        """Back from a dialog (help, models, sources...): typing goes to the prompt again."""
        self.query_one(PromptInput).focus()

    def on_key(self, event: events.Key) -> None:
        """A character typed while focus is elsewhere (the web switch, a source list after a Tab)
        goes to the prompt, so that a typed "?" is a question mark, not a command."""
        prompt = self.query_one(PromptInput)
        if self.focused is prompt or not event.is_printable or not event.character:
            return
        event.stop()
        event.prevent_default()
        prompt.focus()
        prompt.insert(event.character)

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
        # Kept at the end while the answers' Markdown is laid out (a plain scroll_end could land
        # mid-way, before they reach their height), until the user scrolls.
        transcript.anchor()
        transcript.scroll_end(animate=False)

    @on(PromptInput.Submitted)
    async def submitted(self, event: PromptInput.Submitted) -> None:
        if await self.ask(event.text):
            event.prompt.clear()
            event.prompt.remember(event.text)
            self.remember_question(event.text)

    @work(thread=True, group="question-history")
    def remember_question(self, question: str) -> None:
        try:
            self.app.session.remember_question(question)
        except Exception:  # noqa: BLE001 - the question is asked all the same
            pass

    async def retry(self) -> None:
        """Ask the last failed question again, in place of its failure."""
        failed = [m for m in self.query(ChatMessage) if m.error]
        if not failed:
            self.notify("no failed question to retry", severity="warning")
            return
        message = failed[-1]
        if await self.ask(message.question, web=message.web):
            await message.remove()

    async def ask(self, question: str, *, web: bool | None = None) -> bool:
        """Start answering `question` (with the web switch's setting, unless `web` is given);
        False if an answer is still streaming."""
        if self.answering is not None and self.answering.state == WorkerState.RUNNING:
            self.notify("an answer is still streaming: Escape stops it", severity="warning")
            return False
        if self.welcome is not None:
            await self.welcome.remove()
        if web is None:
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
        history = [Turn(ex.question, ex.answer) for ex in app.exchanges if ex.answer]
        self.status.state = "answering…"
        events = app.session.ask(question, web=web, kb=app.kb, model=app.model, history=history)
        run = _Streamed(started=time.perf_counter())
        queue, stop = self._produce(events)
        try:
            await self._show(queue, message, run)
        except asyncio.CancelledError:
            run.stopped = True
            stop.set()  # the thread stops at the next event and closes the model's stream
        await self._conclude(question, web, message, run)

    def _produce(self, events) -> tuple[asyncio.Queue, threading.Event]:
        """A thread runs the pipeline and queues its events (None last); it also closes the
        pipeline (on Escape, once `stop` is set), so the generator is never touched from two
        threads."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()
        describe = self.app.describe

        def put(item: object) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        pump = threading.Thread(target=_pump, args=(events, put, stop, describe), name="answer")
        pump.daemon = True
        pump.start()
        return queue, stop

    async def _show(self, queue: asyncio.Queue, message: ChatMessage, run: _Streamed) -> None:
        """Render events as they come. The UI takes whatever has arrived in one go and merges
        consecutive deltas, so a fast stream costs a few screen updates per frame, not one per token."""
        transcript = self.query_one("#transcript", VerticalScroll)
        while True:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            for event in _merge_deltas(batch):
                if event is None:
                    return
                if isinstance(event, ReasoningDelta):
                    run.first_reasoning = run.first_reasoning or time.perf_counter()
                    self.status.state = f"{run.sources}thinking…"
                    await message.add_reasoning(event.text)
                elif isinstance(event, AnswerDelta):
                    self.status.state = f"{run.sources}answering…"
                    seconds = time.perf_counter() - run.first_reasoning if run.first_reasoning else None
                    await message.add_answer(event.text, seconds)
                elif isinstance(event, Notice):
                    if event.level == "error":
                        run.errors.append(event.text)
                    severity = {"info": "information", "warning": "warning", "error": "error"}[event.level]
                    self.notify(plain(event.text), severity=severity, timeout=8, markup=False)
                elif isinstance(event, SourcesFound):
                    run.sources = f"{counted(len(event.sources), 'source')} · "
                    self.status.state = f"{run.sources}answering…"
                elif isinstance(event, Progress):
                    self.status.state = f"{run.sources}{event.text}"
                elif isinstance(event, Final):
                    run.final = event
            if transcript.max_scroll_y - transcript.scroll_y < 5:
                transcript.scroll_end(animate=False)

    async def _conclude(self, question: str, web: bool, message: ChatMessage, run: _Streamed) -> None:
        """The finished exchange on screen and in the store; a failure stays with its error."""
        app, final = self.app, run.final
        if final is not None:
            exchange = Exchange.from_final(question, final, stopped=run.stopped)
        else:  # stopped (or broken) before the pipeline's end: what arrived is kept
            stats = AnswerStats(total_seconds=time.perf_counter() - run.started)
            exchange = Exchange(question, message.answer_text, web=web, stats=stats, model=app.model or "")
            exchange.stopped = run.stopped
        if not run.stopped and not exchange.answer:
            exchange.error = run.errors[-1] if run.errors else "no answer came back"
        transcript = self.query_one("#transcript", VerticalScroll)
        following = transcript.max_scroll_y - transcript.scroll_y < 5
        await message.finish(exchange)
        if following:  # the sources and stats just added stay in view
            transcript.scroll_end(animate=False)
        asked = final is not None and final.asked and not exchange.error
        self.status.tokens_per_second = final.stats.tokens_per_second if asked else None
        self.status.first_token = final.stats.time_to_first_token if asked else None
        self.status.context = f"{final.stats.prompt_tokens}/{final.stats.num_ctx}" if asked else ""
        if asked and not app.model:
            app.model = final.model
        if exchange.error:
            self.status.state = "failed: Ctrl+R retries"
        else:
            self.status.state = "stopped" if run.stopped else ""
        app.save_exchange(exchange)

    def action_stop(self) -> None:
        if self.answering is not None and self.answering.state == WorkerState.RUNNING:
            self.answering.cancel()

    @on(SourceSelected)
    def open_source(self, event: SourceSelected) -> None:
        self.app.push_screen(SourceScreen(event.source))


@dataclass
class _Streamed:
    """What one answer's stream has shown so far."""

    started: float
    first_reasoning: float | None = None
    final: Final | None = None
    stopped: bool = False
    sources: str = ""
    errors: list[str] = field(default_factory=list)


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
