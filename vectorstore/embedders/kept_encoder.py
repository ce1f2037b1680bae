"""A query encoder's layers over the life of a process: streamed for its first query, then run
by ONNX Runtime (onnx_graph) or, where that cannot run, kept in NumPy.

A one-shot command (`assistant search`) embeds one query: it reads (e5: dequantizes) the layers
one at a time and never holds more than one. A process that embeds many (the chat app, the MCP
server, a benchmark) would otherwise spend most of each query reading them again (e5: about
70 ms of a 78 ms query here), so from the second query on they are kept, compiled into an ONNX
Runtime session (about 0.15 s once for e5 here; then 13 ms a query against NumPy's 23.5). A
process that says it will embed many (`vectorstore.embedders.expect_many_queries`: the chat app
and the MCP server, as they warm up) keeps them from the first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import numpy as np

from . import MANY_QUERIES
from .numpy_encoder import Layer, encode, one_blas_thread

log = logging.getLogger(__name__)

Engine = Callable[[np.ndarray], np.ndarray]


class KeptEncoder:
    """`encoder(windows)`: each window's last hidden states [tokens, hidden], from its
    embeddings; `read` gives the layers one at a time (float32, for NumPy)."""

    def __init__(
        self,
        read: Callable[[], Iterator[Layer]],
        hidden: int,
        heads: int,
        eps: float,
        *,
        graph_layers: Callable[[], Iterator[Layer]] | None = None,
    ) -> None:
        self._read, self._hidden, self._heads, self._eps = read, hidden, heads, eps
        #: The layers as the graph takes them (e5: its 4-bit blocks, onnx_graph.Q4Matrix).
        self._graph_layers = graph_layers or read
        self._engine: Engine | None = None
        self._calls = 0
        self._lock = threading.Lock()
        self._building = threading.Lock()

    def __call__(self, windows: list[np.ndarray]) -> list[np.ndarray]:
        with self._lock:
            self._calls += 1
            engine, first = self._engine, self._calls == 1 and not MANY_QUERIES.is_set()
        if engine is None and not first:
            engine = self._kept()
        if engine is not None:
            return [engine(x) for x in windows]
        with one_blas_thread():  # layer by layer over every window: each layer read once
            for layer in self._read():
                windows = [encode(x, [layer], self._heads, self._eps) for x in windows]
        return windows

    @property
    def engine(self) -> str:
        """What runs the layers now: "streamed", "onnxruntime" or "numpy"."""
        engine = self._engine
        return "streamed" if engine is None else getattr(engine, "kind", "numpy")

    def _kept(self) -> Engine:
        with self._building:
            if self._engine is None:
                self._engine = self._build()
            return self._engine

    def _build(self) -> Engine:
        try:
            from .onnx_graph import onnx_encoder

            # The layers are read again as the graph is written, one held at a time.
            run = onnx_encoder(self._graph_layers(), self._hidden, self._heads, self._eps)
            run.kind = "onnxruntime"  # type: ignore[attr-defined]
            return run
        except Exception as exc:  # an ONNX Runtime too old or broken: the same layers in NumPy
            log.warning("ONNX Runtime cannot run the query encoder (%s); NumPy runs it", exc)
        layers = list(self._read())

        def numpy_engine(x: np.ndarray) -> np.ndarray:
            with one_blas_thread():
                return encode(x, layers, self._heads, self._eps)

        return numpy_engine
