"""Knowledge-base retrieval quality: each input alone, RRF, Open WebUI's hybrid and ours, per dev set.

Dev sets (benchmarks/RESULTS.md): CMRC 2018 (Chinese questions over Chinese passages), Tatoeba
cmn-eng both ways, apidocs (short English queries over scientific API reference text),
Cranfield (English queries over aerodynamics abstracts, graded human judgements), and mixed bases
("A+B": one base holding both sets' passages, asked both sets' queries).

"ours" is the product's ranker as `KBRetriever.search` runs it: `candidates.gather` asks a
`CandidateIndex` for every list and `ranking.rank` fuses, reranks (off by default) and collapses.
The index here is a dev set as a knowledge base holds it: the real FTS5 lexical index
(vectorstore.lexical), the default dense index (e5) over every passage and the English index
(MiniLM) over the English passages only; dense search is exact cosine search over the vectors
Chroma would hold (HNSW is exact at these sizes). Embeddings are cached in benchmarks/.work.

    python -m benchmarks.retrieval [--sets cmrc,tatoeba-en-zh,cranfield,...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from assistant.retrieval.candidates import DenseIndex, Passage, gather
from assistant.retrieval.dictionary import translator
from assistant.retrieval.fusion import Ranked, weighted_rrf
from assistant.retrieval.ranking import RetrievalOptions, rank
from benchmarks.common import (
    load_apidocs,
    load_cmrc,
    load_cranfield,
    load_django_i18n,
    load_poetry,
    load_tatoeba,
    machine,
    rank_metrics,
)
from vectorstore import FileRecord, StoredChunk
from vectorstore.embedders import make_embedder
from vectorstore.kb import ENGLISH_LANGUAGES, english_index_wanted
from vectorstore.lexical import LexicalIndex

WORK = Path(__file__).resolve().parent / ".work"
MAIN, ENGLISH = "e5", "minilm"
OPTIONS = RetrievalOptions()
K = 10  # ranks evaluated
TRANSLATE = translator()


def load_set(name: str) -> tuple[list[str], list[tuple[str, object]]]:
    """(documents, [(query, relevant document index, indexes or {index: gain})]) of a dev set.

    "A+B" is one base holding the documents of both sets, queried with the queries of both (a
    mixed-language base: English queries must still find Chinese passages and vice versa).
    """
    if "+" in name:
        docs: list[str] = []
        queries: list[tuple[str, object]] = []
        for part in name.split("+"):
            part_docs, part_queries = load_set(part)
            queries += [(q, _shift(rel, len(docs))) for q, rel in part_queries]
            docs += part_docs
        return docs, queries
    loaders = {
        "cmrc": load_cmrc,
        "cranfield": load_cranfield,
        "apidocs": load_apidocs,
        "poetry": load_poetry,
        "tatoeba-en-zh": partial(load_tatoeba, "en-zh"),
        "tatoeba-zh-en": partial(load_tatoeba, "zh-en"),
        "django-en-zh": partial(load_django_i18n, "en-zh"),
        "django-zh-en": partial(load_django_i18n, "zh-en"),
    }
    if name not in loaders:
        raise SystemExit(f"unknown dev set {name}; known: {', '.join(loaders)} and A+B mixes")
    return loaders[name]()


def _shift(relevant: object, by: int) -> object:
    if isinstance(relevant, dict):
        return {d + by: g for d, g in relevant.items()}
    if isinstance(relevant, frozenset):
        return frozenset(d + by for d in relevant)
    return relevant + by  # type: ignore[operator]


def vectors(spec: str, texts: list[str], *, queries: bool) -> np.ndarray:
    """Embeddings of `texts` by `spec`, cached per text (by its hash) in benchmarks/.work."""
    embedder = make_embedder(spec)
    kind = "q" if queries else "d"
    path = WORK / f"vectors-{kind}-{embedder.id.replace('/', '_').replace(':', '_')}.npz"
    cache = _load_cache(path)
    keys = [_key(t) for t in texts]
    missing = list({k: t for k, t in zip(keys, texts, strict=True) if k not in cache}.items())
    if missing:
        made = (
            [embedder.embed_query(t) for _, t in missing]
            if queries
            else embedder.embed_documents([t for _, t in missing])
        )
        cache.update(zip((k for k, _ in missing), np.asarray(made, dtype=np.float32), strict=True))
        WORK.mkdir(exist_ok=True)
        cache = _load_cache(path) | cache  # what another run added meanwhile is kept
        partial_path = path.with_suffix(f".{os.getpid()}.npz")
        np.savez(partial_path, keys=np.array(list(cache)), v=np.stack(list(cache.values())))
        os.replace(partial_path, path)
    return np.stack([cache[k] for k in keys]) if texts else np.zeros((0, 1), np.float32)


def _load_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    data = np.load(path, allow_pickle=False)
    return dict(zip(data["keys"].tolist(), data["v"], strict=True))


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class DevSetIndex:
    """A dev set as a knowledge base holds it, speaking `candidates.CandidateIndex`."""

    def __init__(self, name: str, docs: list[str], queries: list[str], folder: Path) -> None:
        self.name, self.docs = name, docs
        self.lexical = LexicalIndex(folder / "kb.sqlite")
        for i, text in enumerate(docs):
            chunk = StoredChunk(f"c{i}", text, {"source": f"/{name}/{i}"})
            record = FileRecord(f"/{name}/{i}", str(i), 0, 0, "", "text", (chunk.id,))
            self.lexical.replace_file(record, [chunk], 0.0)
        english = [i for i, d in enumerate(docs) if english_index_wanted(d)]
        self.dense = {MAIN: (list(range(len(docs))), vectors(MAIN, docs, queries=False))}
        if english:
            self.dense[ENGLISH] = (english, vectors(ENGLISH, [docs[i] for i in english], queries=False))
        self.query_vectors = {
            spec: dict(zip(queries, vectors(spec, queries, queries=True), strict=True)) for spec in self.dense
        }
        self.languages = {MAIN: make_embedder(MAIN).languages, ENGLISH: ENGLISH_LANGUAGES}
        self.english_index = ENGLISH in self.dense

    def close(self) -> None:
        self.lexical.close()

    def lexical_search(self, query: str, k: int) -> Sequence[Passage]:
        return [Passage(h.id, h.text, h.score, h.metadata) for h in self.lexical.search(query, k)]

    def lexical_search_terms(self, terms: Sequence[str], k: int) -> Sequence[Passage]:
        return [Passage(h.id, h.text, h.score, h.metadata) for h in self.lexical.search_terms(terms, k)]

    def lexical_tokens(self, ids: Sequence[str]) -> dict[str, list[str]]:
        return self.lexical.tokens(ids)

    def dense_search(self, spec: str, query: str, k: int) -> list[Passage]:
        ids, matrix = self.dense[spec]
        sims = matrix @ self.query_vectors[spec][query]
        order = np.argsort(-sims, kind="stable")[:k]
        return [self._passage(ids[i], float(sims[i])) for i in order]

    def _passage(self, i: int, score: float) -> Passage:
        return Passage(f"c{i}", self.docs[i], score, {"source": f"/{self.name}/{i}"})

    def dense_indexes(self) -> list[DenseIndex]:
        out = [DenseIndex(self.languages[MAIN], partial(self.dense_search, MAIN))]
        if self.english_index:
            out.append(DenseIndex(ENGLISH_LANGUAGES, partial(self.dense_search, ENGLISH), optional=True))
        return out


def methods(index: DevSetIndex, query: str) -> dict[str, list[str]]:
    """Each method's ranked chunk ids for `query`."""
    depth = OPTIONS.depth
    lexical = [Ranked(p.id, p.score) for p in index.lexical_search(query, depth)]
    dense = {
        spec: [Ranked(p.id, p.score) for p in index.dense_search(spec, query, depth)] for spec in index.dense
    }
    out = {"lexical (BM25)": lexical}
    for spec, ranked in dense.items():
        out[f"dense {spec}"] = ranked
        # Open WebUI's hybrid search (issue 23's baseline): reciprocal rank fusion of BM25 and
        # the embedder, equal weights (LangChain's EnsembleRetriever, c = 60).
        out[f"rrf {spec}+BM25"] = weighted_rrf([(lexical, 0.5), (ranked, 0.5)])
    if len(dense) > 1:
        out["rrf all"] = weighted_rrf([(lexical, 1.0)] + [(r, 1.0) for r in dense.values()])
    results = {m: [r.id for r in ranked[:K]] for m, ranked in out.items()}
    found = gather(index, query, depth, translate=TRANSLATE, feedback=OPTIONS.feedback)
    results["ours"] = [r.passage.id for r in rank(query, found, K, OPTIONS)]
    variants = {"ours, no translation": replace(found, translated=(), translation={})}
    if index.english_index:
        variants["ours, English index off"] = replace(found, dense=found.dense[:1])
    expanded = gather(index, query, depth, translate=TRANSLATE, feedback=not OPTIONS.feedback)
    variants["ours, feedback " + ("off" if OPTIONS.feedback else "on")] = expanded
    for name, candidates in variants.items():
        results[name] = [r.passage.id for r in rank(query, candidates, K, OPTIONS)]
    return results


def evaluate(name: str) -> tuple[list[dict], dict[str, float]]:
    docs, queries = load_set(name)
    texts = [q for q, _ in queries]
    ranked: dict[str, list[list[int]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        index = DevSetIndex(name, docs, texts, Path(tmp))
        start = time.perf_counter()
        for query in texts:
            for method, ids in methods(index, query).items():
                ranked.setdefault(method, []).append([int(i[1:]) for i in ids])
        seconds = (time.perf_counter() - start) / max(len(texts), 1)
        index.close()
    relevant = [rel for _, rel in queries]
    rows = [{"set": name, "method": m, **rank_metrics(r, relevant)} for m, r in ranked.items()]
    return rows, {"queries": len(texts), "documents": len(docs), "seconds_per_query": seconds}


DEFAULT_SETS = (
    "cmrc,tatoeba-en-zh,tatoeba-zh-en,django-en-zh,django-zh-en,apidocs,cranfield,poetry,"
    "tatoeba-en-zh+apidocs,cmrc+apidocs"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", default=DEFAULT_SETS)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "retrieval.json")
    args = parser.parse_args()
    rows, sizes = [], {}
    for name in args.sets.split(","):
        set_rows, sizes[name] = evaluate(name)
        rows += set_rows
        print_rows(set_rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine(), "sets": sizes, "rows": rows}, indent=2))


def print_rows(rows: list[dict]) -> None:
    print("| set | method | recall@1 | recall@5 | MRR@10 | nDCG@10 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['set']} | {r['method']} | {r['recall@1']:.3f} | {r['recall@5']:.3f} | "
            f"{r['mrr@10']:.3f} | {r['ndcg@10']:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
