"""What the moving embedding bar costs: the default embedder's throughput on the chunks an ingest
embeds, one call per ingest batch, without progress (`embed_documents`, as before issue 18 item 7)
and with a report after each forward pass (`embed_documents_in_steps`, what ingest calls now),
alternating in one run so that both see the same load. Reports chunks/s of each, their ratio,
how many progress reports a batch gave, and that the vectors are the same.

    python -m benchmarks.embed_progress [--corpus generated|docs] [--chunks 1024] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from benchmarks.common import machine
from benchmarks.embedder_speed import corpus_texts
from vectorstore.embedders import make_embedder


def run(embedder, texts: list[str], stepped: bool) -> tuple[np.ndarray, float, int]:
    batch = max(16, embedder.embed_batch_size())  # what ingest hands over per call
    steps: list[int] = []
    start = time.perf_counter()
    vectors = []
    for i in range(0, len(texts), batch):
        part = texts[i : i + batch]
        if stepped:
            vectors += embedder.embed_documents_in_steps(part, steps.append)
        else:
            vectors += embedder.embed_documents(part)
    return np.asarray(vectors, dtype=np.float32), time.perf_counter() - start, len(steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="generated", choices=("generated", "docs"))
    parser.add_argument("--chunks", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = corpus_texts(args.corpus, args.chunks)[: args.chunks]
    embedder = make_embedder("e5")
    embedder.embed_documents(texts[:8])  # load the model outside the timings
    seconds = {"before": 0.0, "after": 0.0}
    reports = 0
    for _ in range(args.rounds):
        plain, s, _ = run(embedder, texts, stepped=False)
        seconds["before"] += s
        stepped, s, reports = run(embedder, texts, stepped=True)
        seconds["after"] += s
    batches = -(-len(texts) // max(16, embedder.embed_batch_size()))
    result = {
        "machine": machine(),
        "embedder": f"{embedder.id} ({embedder.device}, {embedder.precision})",
        "chunks": len(texts),
        "rounds": args.rounds,
        "before_chunks_per_s": round(len(texts) * args.rounds / seconds["before"], 1),
        "after_chunks_per_s": round(len(texts) * args.rounds / seconds["after"], 1),
        "after_over_before": round(seconds["before"] / seconds["after"], 3),
        "reports_per_batch_before": 1,
        "reports_per_batch_after": round(reports / batches, 1),
        "max_abs_difference": float(np.abs(plain - stepped).max()),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
