"""all-MiniLM-L6-v2 queries without PyTorch: the packaged model's own tokenizer and weights, in NumPy.

The English index's passages are embedded by sentence-transformers (PyTorch); its queries are
embedded here while PyTorch is not loaded, as sentence-transformers would: the tokenizer file
the package ships (WordPiece, lower-cased), truncated to the model's 256 tokens, the BERT
encoder, the mean of every token's last hidden state, L2-normalized.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .base import EmbedderError
from .numpy_encoder import Layer, encode, layer_norm, normalized

_PREFIX = "encoder.layer."


class MiniLMQueryEncoder:
    """Embeds one text with the sentence-transformers model in `folder` (a BERT model)."""

    def __init__(self, folder: Path) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            st_config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self._weights = safe_open(str(folder / "model.safetensors"), framework="numpy")
        except Exception as exc:  # a missing or damaged file: OSError, JSON or safetensors errors
            raise EmbedderError(f"cannot load the MiniLM model in {folder}: {exc}") from exc
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(int(st_config.get("max_seq_length", 256)))
        self._heads = int(config["num_attention_heads"])
        self._layers_count = int(config["num_hidden_layers"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self._embedding = {
            name: self._tensor(f"embeddings.{name}")
            for name in ("position_embeddings.weight", "token_type_embeddings.weight")
        }
        self._norm = (self._tensor("embeddings.LayerNorm.weight"), self._tensor("embeddings.LayerNorm.bias"))
        self._words = self._weights.get_slice("embeddings.word_embeddings.weight")

    def _tensor(self, name: str) -> np.ndarray:
        return self._weights.get_tensor(name).astype(np.float32, copy=False)

    def embed(self, text: str) -> np.ndarray:
        """The L2-normalized float32 vector of `text`."""
        ids = self._tokenizer.encode(text).ids
        # Only the rows of the query's tokens are read from the 47 MB word table.
        words = np.stack([self._words[i : i + 1][0] for i in ids]).astype(np.float32)
        positions = self._embedding["position_embeddings.weight"][: len(ids)]
        token_type = self._embedding["token_type_embeddings.weight"][0]
        x = layer_norm(words + positions + token_type, self._norm, self._eps)
        with threadpool_limits(1, user_api="blas"):  # BLAS threads only cost on matrices this small
            hidden = encode(x, self._layers(), self._heads, self._eps)
        return normalized(hidden.mean(axis=0, dtype=np.float64))

    def _layers(self) -> Iterator[Layer]:
        for i in range(self._layers_count):
            p = f"{_PREFIX}{i}."

            def t(name: str, p: str = p) -> np.ndarray:
                return self._tensor(p + name)

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
