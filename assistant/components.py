"""Builds the working parts (knowledge base, web engine, retriever) from one Settings object."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .errors import AssistantError
from .settings import Settings, SettingsError

if TYPE_CHECKING:  # the retrievers (NumPy, the base's code) load with the first search
    from .retrieval import Retriever
    from .web import WebOptions


def open_kb(settings: Settings, name: str | None = None, *, create: bool = False):
    from vectorstore import KnowledgeBase

    return KnowledgeBase.open(
        settings.home,
        name or settings.kb,
        embedder=settings.embedder,
        chroma_url=settings.chroma_url,
        ollama_url=settings.ollama_host,
        create=create,
        # A base opened to be searched opens its vectors on a thread while the query is embedded.
        background=not create,
        # Decides only for a new base: an existing one keeps what it was created with. On means
        # "where it helps": None lets the base add one when its embedder is multilingual (an
        # English-only embedder gains nothing from a second English model) and MiniLM is there.
        english_index=None if settings.english_index else False,
    )


def web_options(settings: Settings, allowed_origins: frozenset[str] = frozenset()) -> WebOptions:
    from .web import AddressPolicy, WebOptions

    return WebOptions(
        max_results=settings.web_results,
        budget=settings.web_budget,
        policy=AddressPolicy(allow_private=settings.allow_private_urls, allowed_origins=allowed_origins),
    )


def make_retriever(settings: Settings, kb, *, kb_problem: tuple[str, str] | None = None) -> Retriever:
    """A retriever over `kb` (None: web only) with the configured engine and reranker;
    `kb_problem`: (name, why) of a base that could not be opened (see Retriever)."""
    from .retrieval import KBRetriever, Retriever
    from .web.engines import ALIASES, ENGINES, engine_names

    name = settings.search_engine
    if ALIASES.get(name, name) not in ENGINES and name not in (known := engine_names()):
        # Checked here, before any search, so that a typo fails the command instead of each search.
        raise SettingsError(f"search_engine: '{name}' is not {' or '.join(known)} (ASSISTANT_SEARCH_ENGINE)")
    reranker = None
    if settings.reranker:  # loaded by the first search: one that cannot load costs the reranking only
        from .retrieval.rerank import LazyReranker

        reranker = LazyReranker(settings.reranker)

    def engine():
        from .web import make_engine

        return make_engine(
            settings.search_engine,
            searxng_url=settings.searxng_url,
            region=settings.search_region,
            safesearch=settings.safesearch,
        )

    embedder = None
    if kb is None:
        from vectorstore.embedders import DEFAULT_EMBEDDER, EmbedderError, make_embedder

        try:
            embedder = make_embedder(settings.embedder or DEFAULT_EMBEDDER, ollama_url=settings.ollama_host)
        except EmbedderError:  # web passages are then ranked by words
            embedder = None
    return Retriever(
        kb,
        embedder=embedder,
        engine=engine,
        web_options=web_options(settings),
        chunker=lambda: _chunker(settings),
        kb_retriever=KBRetriever(kb, reranker=reranker) if kb is not None else None,
        kb_problem=kb_problem,
    )


def _chunker(settings: Settings):
    from ingest import Chunker

    return Chunker(settings.chunk_size, settings.chunk_overlap)


def make_chat_backend(settings: Settings):
    from .chat.backends import make_backend

    return make_backend(settings)


class RetrieverCache:
    """Opens each knowledge base once per session and hands out its retriever, safely shared by
    threads (the TUI's warm-up, answer and ingest workers).

    `invalidate(name)` (after an ingest) retires a base's retriever: the next caller gets a fresh
    one that sees the new content, and the retired one is closed once no search is using it, so
    an ingest never closes a retriever under a running answer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._live: dict[str, _Shared] = {}
        self._closed = False

    def __call__(self, name: str | None) -> Retriever | None:
        name = name or self.settings.kb
        with self._lock:
            if self._closed:
                raise RuntimeError("this session is closed")
            shared = self._live.get(name)
            if shared is not None:
                return shared  # type: ignore[return-value]
            try:
                kb = self._open(name)
            except AssistantError as exc:
                # Its server down, busy, corrupt: this search says so (and answers from the web if
                # it is on); the base is not kept, so the next search tries it again.
                return make_retriever(self.settings, None, kb_problem=(name, str(exc)))
            try:
                shared = self._live[name] = _Shared(make_retriever(self.settings, kb), kb)
            except BaseException:
                if kb is not None:
                    kb.close()
                raise
            return shared  # type: ignore[return-value]

    def _open(self, name: str):
        """Base `name`, or None when there is none of that name ("-" names none: web only)."""
        from vectorstore.bases import list_kbs

        if name == "-" or name not in list_kbs(self.settings.home, self.settings.chroma_url):
            return None
        return open_kb(self.settings, name)

    def invalidate(self, name: str | None = None) -> None:
        """Retire the retriever of base `name` (all of them if None); see the class docstring."""
        with self._lock:
            names = list(self._live) if name is None else [name]
            retired = [self._live.pop(n) for n in names if n in self._live]
        for shared in retired:
            shared.retire()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.invalidate()


class _Shared:
    """A retriever with a count of the searches running on it, closed (with its base) when retired
    and idle. Everything else is the retriever's own."""

    def __init__(self, retriever: Retriever, kb) -> None:
        self._retriever = retriever
        self._kb = kb
        self._lock = threading.Lock()
        self._running = 0
        self._retired = False
        self.closed = False

    def __getattr__(self, name: str):
        return getattr(self._retriever, name)

    def search(self, *args, **kwargs):
        with self.in_use() as retriever:
            return retriever.search(*args, **kwargs)

    @contextmanager
    def in_use(self) -> Iterator[Retriever]:
        """The retriever (and its base), kept open until the block ends even if retired meanwhile."""
        with self._lock:
            self._running += 1
        try:
            yield self._retriever
        finally:
            with self._lock:
                self._running -= 1
                close = self._retired and self._running == 0
            if close:
                self._close()

    def retire(self) -> None:
        with self._lock:
            self._retired = True
            close = self._running == 0
        if close:
            self._close()

    def _close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        if self._retriever.kb_retriever is not None:
            self._retriever.kb_retriever.close()
        if self._kb is not None:
            self._kb.close()


def make_assistant(settings: Settings, retrievers=None, backend=None):
    """The answer pipeline; `retrievers(name)` gives a base's retriever (default: a RetrieverCache)."""
    from .chat.pipeline import AskOptions, Assistant

    return Assistant(
        backend or make_chat_backend(settings),
        retrievers or RetrieverCache(settings),
        default_model=settings.model,
        options=AskOptions.from_settings(settings),
    )
