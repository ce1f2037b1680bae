"""Builds the working parts (knowledge base, web engine, retriever) from one Settings object."""

from __future__ import annotations

from .retrieval import KBRetriever, Retriever
from .retrieval.rerank import CrossEncoderReranker
from .settings import Settings, SettingsError
from .web import AddressPolicy, WebOptions, make_engine
from .web.engines import ALIASES, ENGINES


def open_kb(settings: Settings, name: str | None = None, *, create: bool = False):
    from vectorstore import KnowledgeBase

    return KnowledgeBase.open(
        settings.home,
        name or settings.kb,
        embedder=settings.embedder,
        chroma_url=settings.chroma_url,
        ollama_url=settings.ollama_host,
        create=create,
    )


def web_options(settings: Settings, allowed_origins: frozenset[str] = frozenset()) -> WebOptions:
    return WebOptions(
        max_results=settings.web_results,
        budget=settings.web_budget,
        policy=AddressPolicy(allow_private=settings.allow_private_urls, allowed_origins=allowed_origins),
    )


def make_retriever(settings: Settings, kb) -> Retriever:
    """A retriever over `kb` (None: web only) with the configured engine and reranker."""
    from ingest import Chunker

    if ALIASES.get(settings.search_engine, settings.search_engine) not in ENGINES:
        # Checked here, before any search, so that a typo fails the command instead of each search.
        raise SettingsError(
            f"search_engine: '{settings.search_engine}' is not {' or '.join(ENGINES)} "
            "(ASSISTANT_SEARCH_ENGINE)"
        )
    reranker = CrossEncoderReranker(settings.reranker) if settings.reranker else None

    def engine():
        return make_engine(
            settings.search_engine,
            searxng_url=settings.searxng_url,
            region=settings.search_region,
            safesearch=settings.safesearch,
        )

    embedder = None
    if kb is None:
        from vectorstore.embedders import DEFAULT_EMBEDDER, make_embedder

        embedder = make_embedder(settings.embedder or DEFAULT_EMBEDDER, ollama_url=settings.ollama_host)
    return Retriever(
        kb,
        embedder=embedder,
        engine=engine,
        web_options=web_options(settings),
        chunker=Chunker(settings.chunk_size, settings.chunk_overlap),
        kb_retriever=KBRetriever(kb, reranker=reranker) if kb is not None else None,
    )


def make_chat_backend(settings: Settings):
    from .chat.backends import make_backend

    return make_backend(settings)


class RetrieverCache:
    """Opens each knowledge base once per session and keeps its retriever; closes them all."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._kbs: dict[str, object] = {}
        self._retrievers: dict[str | None, Retriever] = {}

    def __call__(self, name: str | None) -> Retriever | None:
        from vectorstore import list_kbs

        name = name or self.settings.kb
        if name not in self._retrievers:
            kb = None
            # "-" names no knowledge base: web-only retrieval (or none).
            if name != "-" and name in list_kbs(self.settings.home):
                kb = self._kbs[name] = open_kb(self.settings, name)
            self._retrievers[name] = make_retriever(self.settings, kb)
        return self._retrievers[name]

    def close(self) -> None:
        for kb in self._kbs.values():
            kb.close()
        self._kbs.clear()
        self._retrievers.clear()


def make_assistant(settings: Settings, retrievers: RetrieverCache | None = None):
    from .chat.pipeline import AskOptions, Assistant

    return Assistant(
        make_chat_backend(settings),
        retrievers or RetrieverCache(settings),
        default_model=settings.model,
        options=AskOptions.from_settings(settings),
    )
