"""The DeepSeek-R1 catalogue on Ollama, and whether each size fits this machine.

Sizes are the Q4_K_M downloads of the Ollama library tags (../shared/reference/r1-and-ollama.md).
Memory needed is estimated as the weights plus 20% (runtime buffers) plus the KV cache of a
4k-token context, which grows with the model's layers and width.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class CatalogModel:
    tag: str
    base: str
    download_gb: float
    #: GiB of KV cache per 1,000 tokens of context (fp16), from the base model's shape.
    kv_gib_per_1k: float

    def memory_gib(self, num_ctx: int = 4096) -> float:
        weights = self.download_gb * 1e9 / GIB
        return round(weights * 1.2 + self.kv_gib_per_1k * num_ctx / 1000, 1)


R1_CATALOG: tuple[CatalogModel, ...] = (
    CatalogModel("deepseek-r1:1.5b", "DeepSeek-R1-Distill-Qwen-1.5B", 1.1, 0.027),
    CatalogModel("deepseek-r1:7b", "DeepSeek-R1-Distill-Qwen-7B", 4.7, 0.055),
    CatalogModel("deepseek-r1:8b", "R1-0528-Qwen3-8B", 5.2, 0.14),
    CatalogModel("deepseek-r1:14b", "DeepSeek-R1-Distill-Qwen-14B", 9.0, 0.19),
    CatalogModel("deepseek-r1:32b", "DeepSeek-R1-Distill-Qwen-32B", 20.0, 0.25),
    CatalogModel("deepseek-r1:70b", "DeepSeek-R1-Distill-Llama-70B", 43.0, 0.31),
    CatalogModel("deepseek-r1:671b", "DeepSeek-R1", 404.0, 4.8),
)


def is_r1(model: str) -> bool:
    """Whether a model name is DeepSeek-R1 or one of its distills: deepseek-r1:7b,
    DeepSeek-R1-Distill-Qwen-7B-GGUF, hf.co/unsloth/r1-1776 (the one test everywhere)."""
    lowered = model.lower()
    return "deepseek-r1" in lowered or re.search(r"(^|[^a-z0-9])r1([^a-z0-9]|$)", lowered) is not None


def total_memory_gib() -> float:
    """Physical memory of this machine (the CPU path; GPU memory is not visible from here)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    except (ValueError, OSError, AttributeError):
        return 0.0


def fits(model: CatalogModel, memory_gib: float | None = None, num_ctx: int = 4096) -> bool:
    """True if the model, at `num_ctx`, fits in this machine's memory with 2 GiB to spare."""
    available = total_memory_gib() if memory_gib is None else memory_gib
    return model.memory_gib(num_ctx) + 2.0 <= available


def catalog_entry(tag: str) -> CatalogModel | None:
    tag = tag if ":" in tag else f"{tag}:latest"
    aliases = {"deepseek-r1:latest": "deepseek-r1:8b"}
    tag = aliases.get(tag, tag)
    return next((m for m in R1_CATALOG if m.tag == tag), None)
