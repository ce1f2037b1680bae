"""Optional cross-encoder reranking (sentence-transformers `CrossEncoder`, any model name or path).

Off by default: on this project's CPU-only reference machine a cross-encoder costs far more per
query than the hybrid retrieval it refines (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from vectorstore.errors import AssistantError


class RerankerError(AssistantError):
    """The reranker could not be loaded or failed; the message names the model and the setting."""


class CrossEncoderReranker:
    def __init__(self, model: str, *, device: str = "cpu") -> None:
        try:
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(model, device=device)
        except Exception as exc:  # OSError for a missing model, HTTP errors offline...
            raise RerankerError(
                f"could not load reranker '{model}': {exc}. Give a local model folder or a hub "
                "name on a machine that can download it, or turn reranking off."
            ) from exc
        self.model = model

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        return [float(s) for s in self._model.predict([(query, p) for p in passages])]


class LazyReranker:
    """The configured cross-encoder, loaded by the first search that reranks: a model that cannot
    be loaded raises its RerankerError there (and in every later search, without trying again),
    so that the search can go on in fused order (assistant.retrieval.failures.GuardedReranker)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._loaded: CrossEncoderReranker | None = None
        self._error: RerankerError | None = None

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        if self._loaded is None:
            if self._error is not None:
                raise self._error
            try:
                self._loaded = CrossEncoderReranker(self.model)
            except RerankerError as exc:
                self._error = exc
                raise
        return self._loaded.scores(query, passages)
