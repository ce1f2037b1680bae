"""What a failing part of retrieval becomes: one line in a notice, and the search goes on.

A knowledge base, a search engine, an embedder or a reranker that fails costs only itself
(assistant.retrieval.retriever, candidates, kb_retriever): its error is described here for the
notice that names it, and the rest of the search carries on without it.
"""

from __future__ import annotations

from collections.abc import Sequence

from vectorstore.errors import AssistantError


def describe(exc: BaseException) -> str:
    """One line for a notice: an error the user can act on says what to do itself; anything else
    is named by its type."""
    text = " ".join(str(exc).split()).rstrip(".;") or type(exc).__name__
    return text if isinstance(exc, AssistantError) else f"{type(exc).__name__}: {text}"


def dense_failure(name: str, exc: BaseException) -> str:
    """What a failed dense search is called: its embedder's failure, or its vectors' (a Chroma
    server that stopped answering, a collection that cannot be read)."""
    from vectorstore.embedders.base import EmbedderError

    part = f"the embedder {name}" if isinstance(exc, EmbedderError) else "the vector search"
    return f"{part} failed: {describe(exc)}"


class GuardedReranker:
    """A reranker whose failure (to load or to score) leaves the fused order as it is, with a
    notice: it scores the passages in their given order, best first."""

    def __init__(self, reranker, name: str, notices: list[str]) -> None:
        self.reranker, self.name, self.notices = reranker, name, notices

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        try:
            reranker = self.reranker() if callable(self.reranker) else self.reranker
            return list(reranker.scores(query, passages))
        except Exception as exc:
            self.notices.append(f"the reranker {self.name} failed: {describe(exc)}; results in fused order")
            return [-float(i) for i in range(len(passages))]
