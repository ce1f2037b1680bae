"""The Textual chat app: `assistant chat`. It renders the answer pipeline's events and holds no
retrieval or model logic of its own (that is `assistant.session.Session`)."""

from __future__ import annotations

import threading
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding

from assistant.chat.presentation import counted
from assistant.conversations import Exchange
from assistant.errors import AssistantError, log_unexpected
from assistant.overview import Overview
from assistant.session import Session
from assistant.settings import Settings

from .clipboard import copy_message
from .screens.chat import ChatScreen
from .screens.confirm import ConfirmScreen
from .screens.help import HelpScreen
from .screens.history import HistoryScreen
from .screens.kb import IngestFailed, IngestProgress, KnowledgeBaseScreen
from .screens.models import ModelScreen
from .text import plain
from .widgets.status import LOADING, StatusBar


def embedded_share(embedded: int | None, chunks: int | None) -> str:
    """ "71% embedded" for a base not fully embedded; "" otherwise (or when unknown)."""
    if embedded is None or not chunks or embedded >= chunks:
        return ""
    return f"{100 * embedded // chunks}% embedded"


class AssistantApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "R1 assistant"
    # F1-F4 come first so that an 80-column footer shows them; the rest are in F1 and Ctrl+P.
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("f2", "models", "Model"),
        Binding("f3", "knowledge", "Knowledge"),
        Binding("f4", "history", "History"),
        Binding("ctrl+w", "toggle_web", "Web", priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+n", "new_chat", "New", show=False),
        Binding("ctrl+t", "toggle_reasoning", "Reasoning", show=False),
        Binding("ctrl+o", "copy_answer", "Copy answer", show=False),
        Binding("ctrl+r", "retry", "Retry", show=False),
    ]

    def __init__(
        self, settings: Settings, session: Session | None = None, *, clipboard_note: str | None = None
    ) -> None:
        """`clipboard_note`: why this terminal may not take a copy (see `tui.clipboard`), if known."""
        super().__init__()
        self.settings = settings
        self.session = session or Session(settings)
        self.clipboard_note = clipboard_note
        self.model: str | None = settings.model
        self.kb: str = settings.kb
        self.conversation_id: int | None = None
        self.exchanges: list[Exchange] = []
        #: Bases an ingest is running into, and how the last ingest ended (the KB screen shows both).
        self.ingesting: set[str] = set()
        self.last_ingest: Text | None = None

    async def on_mount(self) -> None:
        await self.push_screen(ChatScreen())
        self.chat.status.model = self.model or "…"
        self.chat.status.kb = self.kb
        self.warm_up()

    @property
    def chat(self) -> ChatScreen:
        return next(s for s in self.screen_stack if isinstance(s, ChatScreen))

    @work(thread=True, group="warm-up")
    def warm_up(self) -> None:
        """Say what the first screen shows, then load the embedder and the base, off the UI thread."""
        overview = self._overview()
        model = overview.model if overview else None
        try:
            # A base the panel already says is unusable is not loaded (nor reported twice).
            if (overview is None or not overview.kb_problem) and self.kb in self.session.knowledge_bases():
                self.session.warm_up(self.kb)
        except Exception as exc:  # shown as a notification; the app stays usable
            self.call_from_thread(
                self.notify, plain(self.describe(exc)), severity="error", timeout=10, markup=False
            )

        def ready() -> None:
            if not self.model and model:
                self.model = model
            bars = self.chat.query(StatusBar)
            if bars:  # none while the app is closing
                bars.first().model = self.model or "none (F2)"
                # Only the loading line is the warm-up's: a question asked meanwhile may already
                # say "answering…" or "failed: Ctrl+R retries", which must stay.
                if bars.first().state == LOADING:
                    bars.first().state = ""

        self.call_from_thread(ready)

    @work(thread=True, group="overview", exclusive=True)
    def refresh_overview(self) -> None:
        """Refresh the first-run panel (after a new chat, a model or base change, an ingest)."""
        self._overview()

    def _overview(self) -> Overview | None:
        """Fill the first-run panel and return what it shows. Runs on a worker thread."""
        try:
            overview = self.session.overview(self.kb, self.model)
        except Exception as exc:  # a broken base must not keep the app from starting
            self.call_from_thread(
                self.notify, plain(self.describe(exc)), severity="error", timeout=10, markup=False
            )
            return None

        def show() -> None:
            welcome = self.chat.welcome
            if welcome is not None:
                welcome.show(overview)
            bars = self.chat.query(StatusBar)
            if bars and overview.kb == self.kb:
                bars.first().embedding = embedded_share(overview.embedded_chunks, overview.chunks)

        self.call_from_thread(show)
        return overview

    def describe(self, exc: BaseException) -> str:
        """One line for the user: an actionable error's own message; for anything else (a bug),
        the traceback goes to the log file under the home folder and the line names it."""
        if isinstance(exc, AssistantError):
            return str(exc)
        return log_unexpected(exc, self.settings.home)

    # --- conversations ----------------------------------------------------------------------
    def save_exchange(self, exchange: Exchange) -> None:
        try:
            self.conversation_id = self.session.save_exchange(self.conversation_id, exchange, kb=self.kb)
        except Exception as exc:  # a full disk: said, and the exchange stays on screen
            self.notify(plain(f"could not save the conversation: {self.describe(exc)}"), severity="error")
        self.exchanges.append(exchange)

    async def action_new_chat(self) -> None:
        self.chat.action_stop()
        self.conversation_id = None
        self.exchanges = []
        await self.chat.show_history([])
        self.notify("new conversation")

    def action_history(self) -> None:
        try:
            self.session.list_conversations()  # opens the store: one it cannot use is said here
        except Exception as exc:  # e.g. written by a newer version: the chat goes on unsaved
            self.notify(plain(self.describe(exc)), severity="error", timeout=10, markup=False)
            return

        async def opened(conversation_id: int | None) -> None:
            if conversation_id is None:
                return
            found = self.session.open_conversation(conversation_id)
            if found is None:
                return
            conversation, self.exchanges = found
            self.conversation_id = conversation_id
            if conversation.model and conversation.model != self.model:  # it goes on with its model
                self.model = self.chat.status.model = conversation.model
            await self.chat.show_history(self.exchanges)

        self.push_screen(HistoryScreen(self.session), opened)

    def action_copy_answer(self) -> None:
        """Copy the last answer through the terminal (OSC 52: works over ssh and in tmux)."""
        answer = next((ex.answer for ex in reversed(self.exchanges) if ex.answer), "")
        if not answer:
            self.notify("no answer to copy yet", severity="warning")
            return
        self.copy_to_clipboard(answer)
        self.notify(plain(copy_message(f"the last answer ({len(answer):,} characters)", self.clipboard_note)))

    async def action_retry(self) -> None:
        await self.chat.retry()

    # --- model, knowledge base, web -----------------------------------------------------------
    def action_models(self) -> None:
        def chosen(model: str | None) -> None:
            if model:
                self.model = model
                self.chat.status.model = model
                self.remember_model(model)
                self.refresh_overview()

        self.push_screen(ModelScreen(self.session, self.model), chosen)

    def remember_model(self, model: str) -> None:
        """The picked model goes on in this conversation and is the default of later launches."""
        note = f"model: {model}"
        try:
            if self.conversation_id is not None:
                self.session.set_conversation_model(self.conversation_id, model)
            config = self.session.remember_default_model(model)
            note += f" (the default from now on, in {config})"
        except Exception as exc:  # a read-only or broken config.toml: the pick still holds now
            note += f"; not saved as the default: {self.describe(exc)}"
        self.notify(plain(note), markup=False)

    def action_knowledge(self) -> None:
        def chosen(name: str | None) -> None:
            if name:
                self.kb = name
                self.chat.status.kb = name
                self.notify(plain(f"knowledge base: {name}"), markup=False)
            self.refresh_overview()

        self.push_screen(KnowledgeBaseScreen(self.session, self.kb), chosen)

    def action_toggle_web(self) -> None:
        self.chat.toggle_web()

    def action_toggle_reasoning(self) -> None:
        from .widgets.message import Reasoning

        blocks = list(self.chat.query(Reasoning))
        fold = any(not b.collapsed for b in blocks)
        for block in blocks:
            block.collapsed = fold

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def start_ingest(self, path: Path, kb: str) -> None:
        self.ingesting.add(kb)
        self.ingest(path, kb)

    @work(thread=True, group="ingest")
    def ingest(self, path: Path, kb: str) -> None:
        """Sync `path` into `kb`; its events reach the knowledge-base screen, if open, as
        `IngestProgress` messages, and so does its end (the summary, or `IngestFailed`)."""
        embedding = [0, 0]  # chunks embedded, chunks to embed

        def forward(message: IngestProgress) -> None:
            from assistant.ingest_events import EmbeddingProgress, Searchable

            if isinstance(message.event, (Searchable, EmbeddingProgress)) and kb == self.kb:
                if isinstance(message.event, Searchable):
                    embedding[:] = [0, message.event.to_embed]
                else:
                    embedding[0] += message.event.count
                bars = self.chat.query(StatusBar)
                if bars:
                    done, total = embedding
                    bars.first().embedding = f"embedding {done}/{total}" if done < total else ""
            if isinstance(self.screen, KnowledgeBaseScreen):
                self.screen.post_message(message)

        def on_event(event) -> None:
            self.call_from_thread(forward, IngestProgress(kb, event))

        try:
            summary = self.session.ingest(path, kb, on_event, confirm=self.ask_user)
        except Exception as exc:  # a busy base, a bad path: said on the screen, not a traceback
            failed = Text(plain(f"ingest into '{kb}' failed: {self.describe(exc)}"), style="red")
            self.call_from_thread(self._ingest_ended, kb, failed, "error")
            self.call_from_thread(forward, IngestProgress(kb, IngestFailed(failed)))
            return
        text = (
            f"{summary.files_added} added, {summary.files_updated} updated, {summary.files_removed} removed, "
            f"{len(summary.files_failed)} failed"
            + (f", {len(summary.files_still_failing)} still failing" if summary.files_still_failing else "")
            + f", {counted(summary.chunks_added, 'chunk')}"
        )
        severity = "warning" if summary.files_failed or summary.files_still_failing else "information"
        line = Text(plain(f"ingested {path} into '{kb}': {text}"))
        self.call_from_thread(self._ingest_ended, kb, line, severity)

    def ask_user(self, question: str) -> bool:
        """Ask `question` in a dialog and wait for the answer (from a worker thread: the ingest's).
        No answer while the app closes counts as no."""
        answered = threading.Event()
        answer = [False]

        def done(yes: bool | None) -> None:
            answer[0] = bool(yes)
            answered.set()

        self.call_from_thread(self.push_screen, ConfirmScreen(question), done)
        while not answered.wait(0.2):
            if not self.is_running:
                return False
        return answer[0]

    def _ingest_ended(self, kb: str, line: Text, severity: str) -> None:
        self.ingesting.discard(kb)
        self.last_ingest = line
        self.refresh_overview()  # what is embedded so far
        self.notify(line.plain, severity=severity, timeout=10, markup=False)  # type: ignore[arg-type]

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Toggle web search", "Search the web for the next question", self.action_toggle_web
        )
        yield SystemCommand("New conversation", "Start a new conversation", self.action_new_chat)
        yield SystemCommand("Pick a model", "Installed models and the R1 catalogue", self.action_models)
        yield SystemCommand("Knowledge bases", "Pick, create, ingest a folder", self.action_knowledge)
        yield SystemCommand("Conversations", "Open, rename, delete, export", self.action_history)
        yield SystemCommand(
            "Fold reasoning", "Fold or unfold all reasoning blocks", self.action_toggle_reasoning
        )
        yield SystemCommand("Copy answer", "Copy the last answer to the clipboard", self.action_copy_answer)
        yield SystemCommand("Retry", "Ask the last failed question again", self.action_retry)
        yield SystemCommand("Keys", "Every key", self.action_help)
        yield SystemCommand("Stop answer", "Stop the answer being streamed", self.chat.action_stop)

    def on_unmount(self) -> None:
        self.session.close()
