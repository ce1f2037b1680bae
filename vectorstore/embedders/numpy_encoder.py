"""A BERT-style encoder (post-LayerNorm, GELU) in NumPy: the light engine for embedding a query.

Embedding one short query needs a few hundred million multiply-adds, which NumPy's BLAS does in
milliseconds; importing PyTorch and building a module takes seconds and hundreds of megabytes.
So `assistant search` embeds its query here, and the ingest (thousands of passages) keeps the
PyTorch engines. e5 (XLM-R) and all-MiniLM-L6-v2 (BERT) share this layer; each model's module
gives the weights (`Layer`) and the embedded tokens. Everything runs in float32, the precision
the models were trained in: vectors within 0.999 cosine of the ingest engines' (measured in
benchmarks/RESULTS.md, tested in tests/test_query_engines.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layer:
    """One encoder layer's weights; matrices as [out, in] (PyTorch's Linear layout)."""

    qkv: np.ndarray  # [3 * hidden, hidden]: query, key and value stacked
    qkv_bias: np.ndarray
    attn_out: np.ndarray
    attn_out_bias: np.ndarray
    attn_norm: tuple[np.ndarray, np.ndarray]
    ffn_in: np.ndarray
    ffn_in_bias: np.ndarray
    ffn_out: np.ndarray
    ffn_out_bias: np.ndarray
    out_norm: tuple[np.ndarray, np.ndarray]


class _OneBlasThread:
    """BLAS held to one thread while any query is being embedded, in any thread.

    threadpoolctl's `threadpool_limits` is process-wide, and each use looks the BLAS libraries
    up again (about 0.7 ms here). Two queries embedded at once (e5 and MiniLM for an English
    query) each entering and leaving it would lift the limit while the other still runs, and
    OpenBLAS, called from two threads with threads of its own, then queues one caller behind the
    other. So the limit is set when the first embedding starts and lifted when the last ends,
    through one controller made once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._limit = None
        self._controller = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                if self._controller is None:
                    from threadpoolctl import ThreadpoolController

                    self._controller = ThreadpoolController()
                self._limit = self._controller.limit(limits=1, user_api="blas")
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and self._limit is not None:
                    self._limit.restore_original_limits()
                    self._limit = None


#: `with one_blas_thread():` around an embedding (BLAS threads only cost on matrices this small).
one_blas_thread = _OneBlasThread()


def layer_norm(x: np.ndarray, norm: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    weight, bias = norm
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    variance = (centered * centered).mean(axis=-1, keepdims=True)
    return centered / np.sqrt(variance + eps) * weight + bias


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU both models use; erf to 1.5e-7 (Abramowitz and Stegun 7.1.26).
    Computed in place in a few buffers (`x` is left as it was): on the small matrices of one
    query, allocating a new array for every step cost as much as the arithmetic."""
    a1, a2, a3, a4, a5 = (np.float32(a) for a in _ERF)
    z = np.abs(x)
    z *= np.float32(1 / np.sqrt(2))
    t = z * np.float32(0.3275911)
    t += 1
    np.reciprocal(t, out=t)
    poly = t * a5
    for a in (a4, a3, a2, a1):
        poly += a
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # 1 - erf(|x| / sqrt(2))
    # 0.5 * x * (1 + erf(x / sqrt(2))) = max(x, 0) - 0.5 * |x| * (1 - erf(|x| / sqrt(2)))
    np.abs(x, out=z)
    poly *= z
    poly *= np.float32(-0.5)
    poly += np.maximum(x, 0, out=z)
    return poly


_ERF = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _attention(qkv: np.ndarray, heads: int) -> np.ndarray:
    """Self-attention over hidden states held as columns: `qkv` [3 * hidden, tokens]."""
    width, tokens = qkv.shape
    size = width // 3 // heads
    q, k, v = qkv.reshape(3, heads, size, tokens)  # each [heads, size, tokens]
    scores = q.transpose(0, 2, 1) @ k * np.float32(1 / np.sqrt(size))  # [heads, query, key]
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    scores /= scores.sum(axis=-1, keepdims=True)
    return (v @ scores.transpose(0, 2, 1)).reshape(heads * size, tokens)


def _column_norm(h: np.ndarray, norm: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    """`layer_norm` of hidden states held as columns [hidden, tokens]."""
    weight, bias = norm
    centered = h - h.mean(axis=0, keepdims=True)
    variance = (centered * centered).mean(axis=0, keepdims=True)
    return centered / np.sqrt(variance + eps) * weight[:, None] + bias[:, None]


def encode(x: np.ndarray, layers: Iterable[Layer], heads: int, eps: float) -> np.ndarray:
    """The last hidden states [tokens, hidden] of one window whose embeddings (after the
    embedding LayerNorm) are `x`. No mask: the window is all real tokens.

    The states are held as columns ([hidden, tokens]) inside, so that every product is
    `weight @ states` on the [out, in] matrices as stored: with a few dozen tokens, OpenBLAS
    does one in about 0.55 of the time of `states @ weight.T` (an 18-token query through e5's
    12 layers: 27 ms against 33 on one core here)."""
    h = np.ascontiguousarray(np.asarray(x, dtype=np.float32).T)
    for layer in layers:
        context = _attention(layer.qkv @ h + layer.qkv_bias[:, None], heads)
        h = _column_norm(h + layer.attn_out @ context + layer.attn_out_bias[:, None], layer.attn_norm, eps)
        inner = gelu(layer.ffn_in @ h + layer.ffn_in_bias[:, None])
        h = _column_norm(h + layer.ffn_out @ inner + layer.ffn_out_bias[:, None], layer.out_norm, eps)
    return np.ascontiguousarray(h.T)


def normalized(vector: np.ndarray) -> np.ndarray:
    return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)
