"""Shared helpers for the benchmarks: where the shared data is, the CMRC set, metrics."""

from __future__ import annotations

import json
import platform
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
CMRC = SHARED_DATA / "retrieval" / "cmrc2018_trial.json"


def load_cmrc() -> tuple[list[str], list[tuple[str, int]]]:
    """(contexts, [(question, index of its context)]) of the CMRC 2018 trial split."""
    data = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    contexts: list[str] = []
    queries: list[tuple[str, int]] = []
    for article in data:
        for paragraph in article["paragraphs"]:
            contexts.append(paragraph["context"])
            for qa in paragraph["qas"]:
                queries.append((qa["question"], len(contexts) - 1))
    return contexts, queries


def rank_metrics(ranked: list[list[int]], relevant: list[int]) -> dict[str, float]:
    """recall@1/5/10 and MRR@10 for one relevant document per query."""
    n = len(relevant)
    out = {}
    for k in (1, 5, 10):
        out[f"recall@{k}"] = sum(rel in r[:k] for r, rel in zip(ranked, relevant, strict=True)) / n
    mrr = 0.0
    for r, rel in zip(ranked, relevant, strict=True):
        if rel in r[:10]:
            mrr += 1 / (r.index(rel) + 1)
    out["mrr@10"] = mrr / n
    return out


@contextmanager
def timer():
    box = {}
    start = time.perf_counter()
    yield box
    box["seconds"] = time.perf_counter() - start


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
