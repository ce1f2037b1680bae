"""One user session: everything a front-end (the CLI, the TUI) needs, behind plain methods.

Front-ends hold a Session and render what it yields; they never talk to Chroma, the model
server or the web themselves. Heavy parts (embedder, Chroma) load on first use.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .chat.backends import BackendError, ModelInfo, PullProgress
from .chat.catalog import R1_CATALOG, CatalogModel, fits, total_memory_gib
from .chat.events import Event, Progress
from .chat.prompt import Turn
from .conversations import Conversation, ConversationStore, Exchange
from .errors import AssistantError
from .mounts import Mounts
from .overview import Overview, document_openings, example_questions, model_status
from .settings import Settings, save_config_value

if TYPE_CHECKING:  # loaded on first use: the chat app must open fast
    from ingest import SyncEvent, SyncSummary

    from .ingest_events import IngestEvent
    from .passages import PassageInContext
    from .retrieval import Retrieval


@dataclass(frozen=True)
class ModelChoice:
    """A row of the model picker: an installed model, a catalogue entry, or both."""

    name: str
    installed: bool
    size_bytes: int = 0
    parameter_size: str = ""
    quantization: str = ""
    thinking: bool | None = None
    context_length: int | None = None
    memory_gib: float | None = None
    fits: bool | None = None


@dataclass(frozen=True)
class CatalogRow:
    """An entry of the R1 catalogue as this machine sees it."""

    tag: str
    base: str
    download_gb: float
    memory_gib: float
    fits: bool
    installed: bool


@dataclass(frozen=True)
class ModelListing:
    """The installed models (with what the server knows of each), the R1 catalogue, this
    machine's memory in GiB, why the installed models could not be listed (`problem`, None when
    they could), and which server was asked (`server`)."""

    installed: list[ModelInfo]
    catalog: list[CatalogRow]
    memory_gib: float
    problem: str | None
    server: str


class Session:
    def __init__(self, settings: Settings) -> None:
        from vectorstore.lookup_table import use_cache_folder

        self.settings = settings
        self._retrievers = None
        self._assistant = None
        self._backend = None
        # The TUI's warm-up, answer and ingest workers share one Session: set-up happens once.
        self._setup = threading.RLock()
        self._core_loaded = False
        self._store: ConversationStore | None = None
        # Queries are segmented and tokenized from tables of the dictionaries, never the whole.
        use_cache_folder(settings.home / "cache")

    # --- answering ------------------------------------------------------------------------
    @property
    def assistant(self):
        """The answer pipeline; it loads no retrieval (the base loads with its first search)."""
        with self._setup:
            if self._assistant is None:
                from .components import make_assistant

                retriever_for = lambda name: self.retrievers(name)  # noqa: E731 - built on first use
                self._assistant = make_assistant(self.settings, retriever_for, self.backend)
            return self._assistant

    @property
    def backend(self):
        """The model server's client (no knowledge base, no retrieval loaded for it)."""
        with self._setup:
            if self._backend is None:
                from .chat.backends import make_backend

                self._backend = make_backend(self.settings)
            return self._backend

    @property
    def retrievers(self):
        """The retriever of each knowledge base, opened once and shared (see RetrieverCache)."""
        self._load_core()
        with self._setup:
            if self._retrievers is None:
                from .components import RetrieverCache

                self._retrievers = RetrieverCache(self.settings)
            return self._retrievers

    def search(self, query: str, *, kb: str | None = None, k: int = 6, web: bool = False) -> Retrieval:
        """The ranked, labelled sources for `query` from base `kb` (and the web if `web`)."""
        name = kb or self.settings.kb
        if not web:
            self.require_kb(name, alternative=", or search the web alone with --web")
        return self.retrievers(name).search(query, k=k, web=web)

    def read_passage(
        self, chunk_id: str, *, kb: str | None = None, context: int = 0
    ) -> PassageInContext | None:
        """Passage `chunk_id` of base `kb` in full, with up to `context` neighbours on each side
        (see assistant.passages); None when the base holds no such passage (any more)."""
        name = kb or self.settings.kb
        if name not in self.knowledge_bases():
            from vectorstore import KnowledgeBaseError

            raise KnowledgeBaseError(f"no knowledge base named '{name}'")
        from .passages import passage_in_context

        with self.retrievers(name).in_use() as retriever:
            return passage_in_context(retriever.kb, chunk_id, context)

    def warm_up(self, kb: str | None = None) -> None:
        """Load what the base's searches need (Chroma, its graphs, the query embedders, the lookup
        tables) by searching it once: the first question is then as quick as the next. A process
        that warms up will ask many questions: its query encoders are built for that at once
        (vectorstore.embedders.expect_many_queries)."""
        from vectorstore.embedders import expect_many_queries

        expect_many_queries()
        retriever = self.retrievers(kb)
        if retriever is not None:  # English, so that the English index (if any) loads too
            retriever.search("what is this about", k=1)

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
        """The answer's events; the first (a Progress) comes before the model server's client or
        anything of retrieval loads, so that a front-end shows a line at once."""
        yield Progress(
            "searching the knowledge base and the web…" if web else "searching the knowledge base…"
        )
        yield from self.assistant.ask(question, web=web, kb=kb, model=model, history=history, think=think)

    def default_model(self) -> str | None:
        try:
            return self.assistant.resolve_model(None)
        except BackendError:
            return None

    # --- models ---------------------------------------------------------------------------
    def installed_models(self) -> tuple[list[ModelInfo], str | None]:
        """Installed models with what both /api/tags (sizes) and /api/show (capabilities,
        context) know, and an error message if the server is down."""
        backend = self.backend
        try:
            listed = backend.list_models()
        except BackendError as exc:
            return [], str(exc)
        installed = []
        for m in listed:
            try:
                shown = backend.show(m.name)
            except BackendError:
                installed.append(m)
                continue
            # What /api/show knows; `thinking=False` is knowledge too (False == 0, so it is kept apart).
            known = {
                k: v
                for k, v in shown.__dict__.items()
                if k != "name" and v is not None and (isinstance(v, bool) or v not in ("", 0))
            }
            installed.append(dataclasses.replace(m, **known))
        return installed, None

    def model_listing(self) -> ModelListing:
        """Installed models and the R1 catalogue, each entry marked with the memory it needs,
        whether it fits this machine and whether it is installed."""
        installed, problem = self.installed_models()
        memory = total_memory_gib()
        names = {m.name for m in installed}
        catalog = [
            CatalogRow(c.tag, c.base, c.download_gb, c.memory_gib(), fits(c, memory), c.tag in names)
            for c in R1_CATALOG
        ]
        return ModelListing(installed, catalog, memory, problem, self.backend_location())

    def models(self) -> tuple[list[ModelChoice], str | None]:
        """The model picker's rows: installed models, then the catalogue's other entries; and an
        error message if the server is down."""
        listing = self.model_listing()
        rows: list[ModelChoice] = []
        for info in listing.installed:
            entry = _catalog(info.name)
            rows.append(
                ModelChoice(
                    info.name,
                    True,
                    info.size_bytes,
                    info.parameter_size,
                    info.quantization,
                    info.thinking,
                    info.context_length,
                    entry.memory_gib() if entry else None,
                    fits(entry, listing.memory_gib) if entry else None,
                )
            )
        rows += [
            ModelChoice(
                c.tag,
                False,
                int(c.download_gb * 1e9),
                thinking=True,
                memory_gib=c.memory_gib,
                fits=c.fits,
            )
            for c in listing.catalog
            if not c.installed
        ]
        return rows, listing.problem

    def loaded_memory(self, model: str) -> int | None:
        """Bytes the server holds for `model` right now, where the back-end reports it."""
        try:
            return self.backend.loaded_memory(model)
        except BackendError:
            return None

    def pull(self, tag: str) -> Iterator[PullProgress]:
        return self.backend.pull(tag)

    def backend_location(self) -> str:
        """Which model server this session talks to, e.g. "ollama at http://127.0.0.1:11434"."""
        backend = self.backend
        return f"{backend.name} at {backend.url}"

    # --- conversations --------------------------------------------------------------------
    @property
    def _conversations(self) -> ConversationStore:
        with self._setup:
            if self._store is None:
                self._store = ConversationStore(self.settings.home / "conversations.sqlite")
            return self._store

    def list_conversations(self) -> list[Conversation]:
        """Every conversation, the most recently updated first."""
        return self._conversations.conversations()

    def open_conversation(self, conversation_id: int) -> tuple[Conversation, list[Exchange]] | None:
        """A conversation and its exchanges, oldest first; None if there is no such one."""
        conversation = self._conversations.get(conversation_id)
        if conversation is None:
            return None
        return conversation, self._conversations.exchanges(conversation_id)

    def save_exchange(self, conversation_id: int | None, exchange: Exchange, *, kb: str) -> int:
        """Add `exchange` to a conversation (a new one, titled by its question, when None);
        returns the conversation's id and sets the exchange's."""
        store = self._conversations
        if conversation_id is None or store.get(conversation_id) is None:
            title = (exchange.question.splitlines() or [""])[0][:60]
            conversation_id = store.create(title, exchange.model, kb).id
        exchange.id = store.add(conversation_id, exchange)
        return conversation_id

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        self._conversations.rename(conversation_id, title)

    def delete_conversation(self, conversation_id: int) -> None:
        self._conversations.delete(conversation_id)

    def set_conversation_model(self, conversation_id: int, model: str) -> None:
        self._conversations.set_model(conversation_id, model)

    def export_conversation(self, conversation_id: int, folder: Path | None = None) -> Path:
        """Write the conversation as Markdown (safe to render: see `conversations.safe_markdown`)
        to `folder` (default HOME/exports); returns the file."""
        folder = folder or self.settings.home / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"conversation-{conversation_id}.md"
        path.write_text(self._conversations.export_markdown(conversation_id), encoding="utf-8")
        return path

    def remember_question(self, text: str) -> None:
        """Keep a question typed at the prompt for `question_history` (across launches)."""
        self._conversations.add_prompt(text)

    def question_history(self) -> list[str]:
        """The questions typed at the prompt, oldest first."""
        return self._conversations.prompts()

    def remember_default_model(self, model: str) -> Path:
        """Make `model` the default of later launches: `model = "..."` in HOME/config.toml."""
        return save_config_value(self.settings.config_file, "model", model)

    # --- knowledge bases ------------------------------------------------------------------
    def _load_core(self) -> None:
        """Import the heavy modules (Chroma, numpy, the retrievers, ingest) once, under the set-up
        lock: the chat app's workers reach them at the same time on a first question, and numpy
        imported by two threads at once is seen half-initialized (ImportError)."""
        with self._setup:
            if not self._core_loaded:
                import vectorstore.kb  # noqa: F401

                from . import components  # noqa: F401

                self._core_loaded = True

    def knowledge_bases(self) -> list[str]:
        """The bases' names (for bases in the home folder: read without loading Chroma)."""
        from vectorstore.bases import list_kbs

        return list_kbs(self.settings.home, self.settings.chroma_url)

    def require_kb(self, name: str, *, alternative: str = "", unreachable_ok: bool = False) -> None:
        """Raise NoSuchKnowledgeBaseError (listing the bases; `alternative` ends it) unless base
        `name` exists; with `unreachable_ok`, bases that cannot be listed now (server down) pass."""
        from vectorstore.errors import ChromaConnectionError

        try:
            existing = self.knowledge_bases()
        except ChromaConnectionError:
            if unreachable_ok:
                return
            raise
        if name not in existing:
            from vectorstore import NoSuchKnowledgeBaseError

            where = f"on the Chroma server at {self.settings.chroma_url}" if self.settings.chroma_url else ""
            raise NoSuchKnowledgeBaseError(name, existing, where=where, alternative=alternative)

    def overview(self, kb: str, model: str | None = None) -> Overview:
        """What the first-run screen shows: the model in use or the command that gets one, the
        base's size, and example questions from its documents' titles."""
        from .chat.pipeline import pick_default_model

        installed, problem = self.installed_models()
        default = None if problem or model else pick_default_model(installed)
        chosen, model_problem = model_status(
            model, installed, problem, default, backend=self.settings.backend
        )
        documents = chunks = embedded = kb_problem = None
        examples: list[str] = []
        try:
            if kb in self.knowledge_bases():
                from .components import open_kb

                with open_kb(self.settings, kb) as base:
                    stats = base.stats()
                    documents, chunks, embedded = stats.documents, stats.chunks, stats.embedded_chunks
                    examples = example_questions(document_openings(base))
        except AssistantError as exc:  # a Chroma server that is down, a base that is busy: said
            kb_problem = str(exc)
        return Overview(kb, chosen, model_problem, documents, chunks, examples, embedded, kb_problem)

    def remove_kb(self, name: str) -> None:
        """Delete base `name` (vectors, index, manifest; never the user's files)."""
        from vectorstore.bases import remove_kb

        if self._retrievers is not None:
            self._retrievers.invalidate(name)
        remove_kb(self.settings.home, name, self.settings.chroma_url)

    def kb_writer(self, name: str):
        """Who is writing base `name` now (a WriteGuard), or None."""
        from vectorstore.bases import kb_writer

        return kb_writer(self.settings.home, name, self.settings.chroma_url)

    def unlock_kb(self, name: str, guard) -> None:
        """Break the write guard `guard` of base `name`, as `kb_writer` returned it."""
        from vectorstore.bases import unlock_kb

        unlock_kb(self.settings.home, name, guard, self.settings.chroma_url)

    def kb_stats(self, name: str):
        """Base `name`'s statistics (for a base in the home folder: from its SQLite file alone)."""
        from vectorstore.stats import read_stats

        return read_stats(self.settings.home, name, self.settings.chroma_url, embedder=self.settings.embedder)

    def ingest(
        self,
        path: Path,
        kb: str,
        on_event: Callable[[IngestEvent], None] | None = None,
        *,
        source: str | None = None,
        confirm: Callable[[str], bool] | None = None,
    ) -> SyncSummary:
        """Sync `path` into base `kb` (created if new); returns the summary, which the last event
        (`IngestFinished`) also carries. `source` names the folder in a shared base (see
        ingest.sync); `confirm` asks the user before syncing a folder into a source that another
        folder was ingested from. The events are Session's own (assistant.ingest_events)."""
        self._load_ingest()
        from functools import partial

        from ingest import Chunker, sync
        from ingest.formats import parse
        from ingest.workers import send_reader_output

        from .components import open_kb
        from .ingest_events import IngestFinished, from_sync_event

        def forward(event: SyncEvent) -> None:
            if on_event is not None and (ours := from_sync_event(event)) is not None:
                on_event(ours)

        # What a parser prints goes to a log, never over a progress display or a chat app's screen.
        logs = self.settings.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        send_reader_output(logs / "readers.log")
        new = kb not in self.knowledge_bases()
        try:
            with open_kb(self.settings, kb, create=True) as base:
                summary = sync(
                    base,
                    path,
                    chunker=Chunker(self.settings.chunk_size, self.settings.chunk_overlap),
                    on_event=forward,
                    limits=self.settings.read_limits(),
                    parser=partial(parse, ocr=self.settings.ocr_options()),
                    source=source,
                    follow_links=self.settings.follow_links,
                    secrets=self.settings.secret_rules(),
                    confirm=confirm,
                )
        except BaseException:
            if new:
                self._remove_if_empty(kb)
            raise
        self._remember_mount(path, source)
        if self._retrievers is not None:
            # The next question opens the base afresh and sees the new content; a question
            # being answered keeps its retriever until its search is done.
            self._retrievers.invalidate(kb)
        if on_event is not None:
            on_event(IngestFinished(summary))
        return summary

    # --- where sources are on this machine (assistant.mounts) ------------------------------
    def _remember_mount(self, path: Path, source: str | None) -> None:
        Mounts(self.settings.home, self.settings.chroma_url).remember(path, source)

    def local_copy(self, uri: str) -> Path | None:
        """The file on this machine behind a source's `uri`, or None (see Mounts.local_copy)."""
        return Mounts(self.settings.home, self.settings.chroma_url).local_copy(uri)

    def _load_ingest(self) -> None:
        from ingest.workers import start_readers

        start_readers()  # first: the readers' server starts while the base loads
        with self._setup:  # numpy imported by two threads at once is seen half-initialized
            import ingest  # noqa: F401
        self._load_core()

    def _remove_if_empty(self, kb: str) -> None:
        """A first ingest that failed before it committed a file leaves no empty base behind (one
        that committed files stays: it is searchable, and the next ingest carries on)."""
        try:
            if self.kb_stats(kb).documents == 0:
                self.remove_kb(kb)
        except Exception:  # noqa: BLE001 - the ingest's own error is the one to report
            pass

    def close(self) -> None:
        if self._retrievers is not None:
            self._retrievers.close()
        if self._store is not None:
            self._store.close()
            self._store = None


def _catalog(name: str) -> CatalogModel | None:
    from .chat.catalog import catalog_entry

    return catalog_entry(name)
