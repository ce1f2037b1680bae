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
from collections.abc import Callable, Iterable, Iterator
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


class KeptLayers:
    """An encoder's layers as `read` gives them (read from the file or dequantized, one at a
    time): streamed on the first call, so a one-shot command (`assistant search`) never holds
    more than one layer, and kept from the second call on, since a process that embeds many
    queries (the chat app, the MCP server, a benchmark) would otherwise spend most of each query
    reading them again (e5: about 70 ms of a 78 ms query here; kept, about 85 MB)."""

    def __init__(self, read: Callable[[], Iterator[Layer]]) -> None:
        self._read = read
        self._kept: list[Layer] | None = None
        self._calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> Iterable[Layer]:
        with self._lock:
            self._calls += 1
            kept, first = self._kept, self._calls == 1
        if kept is not None:
            return kept
        if first:
            return self._read()
        layers = list(self._read())
        with self._lock:
            self._kept = layers
        return layers


def layer_norm(x: np.ndarray, norm: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    weight, bias = norm
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    variance = (centered * centered).mean(axis=-1, keepdims=True)
    return centered / np.sqrt(variance + eps) * weight + bias


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU both models use; erf to 1.5e-7 (Abramowitz and Stegun 7.1.26)."""
    z = np.abs(x) * np.float32(1 / np.sqrt(2))
    t = 1 / (1 + np.float32(0.3275911) * z)
    a1, a2, a3, a4, a5 = (np.float32(a) for a in _ERF)
    erf = 1 - t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5)))) * np.exp(-z * z)
    return np.float32(0.5) * x * (1 + np.sign(x) * erf)


_ERF = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _attention(qkv: np.ndarray, heads: int) -> np.ndarray:
    tokens, width = qkv.shape
    size = width // 3 // heads
    q, k, v = qkv.reshape(tokens, 3, heads, size).transpose(1, 2, 0, 3)  # each [heads, tokens, size]
    scores = q @ k.transpose(0, 2, 1) * np.float32(1 / np.sqrt(size))
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    scores /= scores.sum(axis=-1, keepdims=True)
    return (scores @ v).transpose(1, 0, 2).reshape(tokens, heads * size)


def encode(x: np.ndarray, layers: Iterable[Layer], heads: int, eps: float) -> np.ndarray:
    """The last hidden states [tokens, hidden] of one window whose embeddings (after the
    embedding LayerNorm) are `x`. No mask: the window is all real tokens."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    for layer in layers:
        context = _attention(x @ layer.qkv.T + layer.qkv_bias, heads)
        x = layer_norm(x + context @ layer.attn_out.T + layer.attn_out_bias, layer.attn_norm, eps)
        inner = gelu(x @ layer.ffn_in.T + layer.ffn_in_bias)
        x = layer_norm(x + inner @ layer.ffn_out.T + layer.ffn_out_bias, layer.out_norm, eps)
    return x


def normalized(vector: np.ndarray) -> np.ndarray:
    return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)
