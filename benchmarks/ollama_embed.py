"""What an Ollama embedder (`ollama:bge-m3`, `ollama:qwen3-embedding`) costs on our side of the wire.

A scripted Ollama on loopback (benchmarks/servers.py) answers `/api/embed` at once with 1024-dim
vectors (bge-m3's and qwen3-embedding:0.6b's size), so what is measured is everything but the
model: requests per batch, the client's texts/s through `OllamaEmbedder` (JSON both ways, HTTP on
loopback), and one query's round trip. The model's own speed needs a real Ollama and, for these
models, preferably a GPU: it is not measured here.

    python -m benchmarks.ollama_embed [--texts 2000] [--model bge-m3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from benchmarks.common import load_cmrc, machine
from benchmarks.servers import ScriptedOllama
from vectorstore.embedders import make_embedder


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--model", default="bge-m3")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ollama_embed.json")
    args = parser.parse_args()
    contexts, questions = load_cmrc()
    # Chunk-sized passages (~270 CJK characters, the chunker's size for Chinese), as ingest sends them.
    passages = [c[i : i + 270] for c in contexts for i in range(0, len(c), 270)]
    texts = (passages * (args.texts // len(passages) + 1))[: args.texts]
    with ScriptedOllama(dimension=1024) as server:
        embedder = make_embedder(f"ollama:{args.model}", ollama_url=server.url)
        batch = embedder.embed_batch_size()
        started = time.perf_counter()
        for i in range(0, len(texts), batch):
            vectors = embedder.embed_documents(texts[i : i + batch])
            assert len(vectors) == len(texts[i : i + batch]) and len(vectors[0]) == 1024
        seconds = time.perf_counter() - started
        requests = list(server.embed_batches)
        query_ms = []
        for question, _ in questions[:200]:
            start = time.perf_counter()
            embedder.embed_query(question)
            query_ms.append(1000 * (time.perf_counter() - start))
    result = {
        "machine": machine(),
        "model": args.model,
        "texts": len(texts),
        "batch_size": batch,
        "requests": len(requests),
        "texts_per_request": sorted(set(requests)),
        "client_texts_per_s": round(len(texts) / seconds, 1),
        "query_round_trip_ms_median": round(statistics.median(query_ms), 2),
        "query_round_trip_ms_p95": round(sorted(query_ms)[int(0.95 * (len(query_ms) - 1))], 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
