"""all-MiniLM-L6-v2 queries without PyTorch: the packaged model's own tokenizer and weights, in NumPy.

The English index's passages are embedded by sentence-transformers (PyTorch); its queries are
embedded here while PyTorch is not loaded, as sentence-transformers would: the tokenizer file
the package ships (WordPiece, lower-cased), truncated to the model's 256 tokens, the BERT
encoder, the mean of every token's last hidden state, L2-normalized.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .base import EmbedderError
from .kept_encoder import KeptEncoder
from .numpy_encoder import Layer, layer_norm, normalized

_PREFIX = "encoder.layer."


class MiniLMQueryEncoder:
    """Embeds one text with the sentence-transformers model in `folder` (a BERT model)."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            st_config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self._weights = Tensors(folder / "model.safetensors")
            self._heads = int(config["num_attention_heads"])
            self._layers_count = int(config["num_hidden_layers"])
            self._eps = float(config.get("layer_norm_eps", 1e-12))
            self._positions = self._weights.get("embeddings.position_embeddings.weight")
            self._token_type = self._weights.get("embeddings.token_type_embeddings.weight")[0]
            self._norm = (
                self._weights.get("embeddings.LayerNorm.weight"),
                self._weights.get("embeddings.LayerNorm.bias"),
            )
        except Exception as exc:  # a missing or damaged file: OSError, JSON, tokenizer or format errors
            raise EmbedderError(f"cannot load the MiniLM model in {folder}: {exc}") from exc
        self._tokenizer.no_padding()
        hidden = self._positions.shape[-1]
        self._encoder = KeptEncoder(self._read_layers, hidden, self._heads, self._eps)
        self._tokenizer.enable_truncation(int(st_config.get("max_seq_length", 256)))

    def embed(self, text: str) -> np.ndarray:
        """The L2-normalized float32 vector of `text`."""
        ids = self._tokenizer.encode(text).ids
        try:
            words = self._weights.rows("embeddings.word_embeddings.weight", ids)
            x = layer_norm(words + self._positions[: len(ids)] + self._token_type, self._norm, self._eps)
            [hidden] = self._encoder([x])
        except (OSError, ValueError, KeyError) as exc:
            raise EmbedderError(f"cannot read the MiniLM model {self._weights.path}: {exc}") from exc
        return normalized(hidden.mean(axis=0, dtype=np.float64))

    def _read_layers(self) -> Iterator[Layer]:
        # Read as each layer runs; kept from the second call on (kept_encoder.KeptEncoder).
        for i in range(self._layers_count):
            p = f"{_PREFIX}{i}."

            def t(name: str, p: str = p) -> np.ndarray:
                return self._weights.get(p + name)

            yield Layer(
                qkv=np.concatenate([t(f"attention.self.{n}.weight") for n in ("query", "key", "value")]),
                qkv_bias=np.concatenate([t(f"attention.self.{n}.bias") for n in ("query", "key", "value")]),
                attn_out=t("attention.output.dense.weight"),
                attn_out_bias=t("attention.output.dense.bias"),
                attn_norm=(t("attention.output.LayerNorm.weight"), t("attention.output.LayerNorm.bias")),
                ffn_in=t("intermediate.dense.weight"),
                ffn_in_bias=t("intermediate.dense.bias"),
                ffn_out=t("output.dense.weight"),
                ffn_out_bias=t("output.dense.bias"),
                out_norm=(t("output.LayerNorm.weight"), t("output.LayerNorm.bias")),
            )


class Tensors:
    """The tensors of a safetensors file (an 8-byte header length, a JSON header of names, dtypes,
    shapes and byte ranges, then the data), each read when asked: a query reads the layers and
    its tokens' rows of the 47 MB word table, and holds one layer at a time."""

    _DTYPES = {"F32": np.float32, "F16": np.float16}

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as file:
            (size,) = struct.unpack("<Q", file.read(8))
            if size > 100_000_000:
                raise ValueError("the header is implausibly large")
            self._header = json.loads(file.read(size))
        self._start = 8 + size

    def _entry(self, name: str) -> tuple[np.dtype, list[int], int, int]:
        entry = self._header[name]
        if entry["dtype"] not in ("F32", "F16"):
            raise ValueError(f"tensor {name} is {entry['dtype']}, not F32 or F16")
        start, end = entry["data_offsets"]
        return np.dtype(self._DTYPES[entry["dtype"]]), list(entry["shape"]), start, end

    def _read(self, offset: int, size: int) -> bytes:
        with open(self.path, "rb") as file:
            data = os.pread(file.fileno(), size, self._start + offset)
        if len(data) != size:
            raise ValueError("the file is cut short")
        return data

    def get(self, name: str) -> np.ndarray:
        dtype, shape, start, end = self._entry(name)
        return np.frombuffer(self._read(start, end - start), dtype).reshape(shape).astype(np.float32)

    def rows(self, name: str, ids: list[int]) -> np.ndarray:
        """Rows `ids` of a matrix, as float32."""
        dtype, shape, start, _ = self._entry(name)
        row = shape[1] * dtype.itemsize
        out = np.empty((len(ids), shape[1]), dtype=np.float32)
        for n, i in enumerate(ids):
            if not 0 <= i < shape[0]:
                raise ValueError(f"token id {i} is outside the word table")
            out[n] = np.frombuffer(self._read(start + i * row, row), dtype)
        return out
