"""The knowledge base as a LangChain retriever: the hybrid ranking the product runs
(`Session.search`: dense + lexical + the English index, fused, deduplicated), not the raw Chroma
collection, so `retriever.invoke(query)` returns what `assistant search` prints, in its order.

    from assistant.integrations import KnowledgeBaseRetriever

    retriever = KnowledgeBaseRetriever.from_settings(kb="notes", k=4)
    docs = retriever.invoke("个人信息处理者的义务有哪些？")
    docs[0].metadata["label"], docs[0].metadata["location"]   # "K1", "/…/个人信息保护法.md › …"
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from ..retrieval import Source
from ..session import Session
from ..settings import Settings, load_settings


class KnowledgeBaseRetriever(BaseRetriever):
    """Passages of a knowledge base (and, with `web=True`, of the web) as `Document`s, best first.

    Each Document's `page_content` is the passage's text; its `metadata` holds `label` (K1, W1...),
    `kind` ("kb" or "web"), `title`, `location` (file with page or heading, or URL, as printed),
    `source` (the file path or URL), `file`, `url`, `page`, `heading`, `score`, `chunk_id`, `base`
    and `suspicious` (the text looks like it gives a model orders); `id` is `BASE:CHUNK_ID`.
    `k`, `kb` and `web` can also be given per call: `retriever.invoke(query, k=3)`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    session: Session = Field(description="The session whose search is used (one per process is enough)")
    kb: str | None = Field(None, description="Knowledge base to search; None: the settings' default")
    k: int = Field(6, ge=1, le=50, description="How many passages to return")
    web: bool = Field(False, description="Also search the web (only the query is sent)")

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> KnowledgeBaseRetriever:
        """A retriever on a new Session; `settings` None reads them as the `assistant` command
        does (ASSISTANT_* variables, HOME/config.toml). Call `close()` when done."""
        return cls(session=Session(settings or load_settings()), **kwargs)

    def close(self) -> None:
        """Close the session's open bases (the retriever cannot search afterwards)."""
        self.session.close()

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        kb: str | None = None,
        web: bool | None = None,
    ) -> list[Document]:
        return self._search(query, k=k, kb=kb, web=web)

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
        kb: str | None = None,
        web: bool | None = None,
    ) -> list[Document]:
        # The search is blocking work (embedding, SQLite, Chroma): off the event loop.
        return await asyncio.to_thread(self._search, query, k=k, kb=kb, web=web)

    def _search(self, query: str, *, k: int | None, kb: str | None, web: bool | None) -> list[Document]:
        k = self.k if k is None else k
        if not 1 <= k <= 50:
            raise ValueError(f"k must be between 1 and 50 (got {k})")
        base = kb or self.kb or self.session.settings.kb
        result = self.session.search(query, kb=base, k=k, web=self.web if web is None else web)
        return [to_document(source, base) for source in result.sources]


def to_document(source: Source, base: str) -> Document:
    """A ranked source as a LangChain Document (see KnowledgeBaseRetriever for the metadata)."""
    web = source.kind == "web"
    uri = source.uri or (source.location if web else "")
    metadata = {
        "label": source.label,
        "kind": source.kind,
        "title": source.title,
        "location": source.location,
        "source": uri,
        "file": None if web else uri,
        "url": uri if web else None,
        "page": source.page,
        "heading": source.heading or None,
        "score": source.score,
        "chunk_id": source.chunk_id,
        "base": None if web else base,
        "suspicious": bool(source.extra.get("suspicious")),
    }
    passage_id = source.chunk_id if web else f"{base}:{source.chunk_id}"
    return Document(id=passage_id, page_content=source.text, metadata=metadata)
