"""Latency of one knowledge-base query (query embedding included) at 10,000 and 100,000 chunks.

The bases hold real Chinese and English passages (sentences of ../shared/data and of the English
dev sets, recombined) in the FTS5 index, and 384-dimensional vectors in Chroma. Embedding 100,000
passages with the default embedder would take hours on this machine, so the stored vectors are
random unit vectors: the HNSW search does the same work (random vectors are its hardest case), and
the query is embedded for real by the base's embedders (e5, the default, and MiniLM for the English
index, which holds the English half of the passages, when the query is English). Built bases are
cached in benchmarks/.work.

Queries alternate a Chinese one (CMRC 2018 questions) and an English one (Cranfield queries,
apidocs summaries and questions about the IBM article in turn, each asked once), each over
passages made of the sentences they were written about.

    python -m benchmarks.latency [--sizes 10000,100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.retrieval import KBRetriever
from benchmarks.common import SHARED_DATA, load_apidocs, load_cmrc, load_cranfield, machine
from vectorstore import FileRecord, KnowledgeBase, StoredChunk
from vectorstore.kb import english_index_wanted
from vectorstore.text import segment

WORK = Path(__file__).resolve().parent / ".work"
PER_FILE = 100
#: The default embedder; random vectors stand in for its passage vectors.
EMBEDDER = "e5"
#: Bump when `passages` changes: bases built from the earlier passages are then built again.
#: 2: English sentences of Cranfield and apidocs beside the IBM article (it alone gave 27).
CORPUS = 2


def passages(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """`n` passages, half Chinese, half English, recombined from sentences of ../shared/data and
    the English dev sets, each with its search tokens (segmented sentence by sentence, as an
    ingest's readers would segment them, but each sentence once: segmenting 100,000 passages takes
    a core 20 minutes)."""
    zh_text = "".join(p.read_text(encoding="utf-8") for p in (SHARED_DATA / "docs" / "zh").glob("*.md"))
    zh_text += "".join(load_cmrc()[0])
    zh = sorted(set(re.findall(r"[^。！？\n]+[。！？]", zh_text)))
    en = english_sentences()
    tokens = {s: " ".join(segment(s)) for s in zh + en}
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pool, sep, count = (en, " ", rng.randint(3, 6)) if i % 2 else (zh, "", rng.randint(3, 8))
        picked = [rng.choice(pool) for _ in range(count)]
        out.append((sep.join(picked), " ".join(tokens[s] for s in picked)))
    return out


def english_sentences() -> list[str]:
    """The distinct sentences of the IBM article (../shared/data/docs/wiki.md), the Cranfield
    abstracts and the apidocs documents (about 19,000)."""
    texts = [(SHARED_DATA / "docs" / "wiki.md").read_text(encoding="utf-8")]
    texts += load_cranfield()[0] + load_apidocs()[0]
    return sorted({s for text in texts for s in re.findall(r"[A-Za-z][^.!?\n]{20,}[.!?]", text)})


#: Varied English questions about the IBM article, no two alike.
ENGLISH_QUERIES = (
    "When was IBM founded?",
    "Who invented the punched card tabulator?",
    "What does IBM research produce?",
    "Which company acquired Red Hat?",
    "Where is IBM headquartered?",
    "Why is IBM nicknamed Big Blue?",
    "How many countries is IBM present in?",
    "Is IBM part of the Dow Jones Industrial Average?",
    "How many research facilities does IBM have?",
    "For how many years did IBM hold the patent record?",
    "What was the Computing-Tabulating-Recording Company?",
    "When was the company renamed International Business Machines?",
    "Which mainframe dominated computing in the 1960s?",
    "What share of computers did IBM make in the 1970s?",
    "When did the IBM Personal Computer come out?",
    "Who provided the DOS software for the IBM PC?",
    "Which laptop line was a success for IBM?",
    "To whom did IBM sell its personal computer division?",
    "Does IBM still build supercomputers?",
    "Which inventions came from IBM laboratories?",
    "Did IBM invent the floppy disk and the hard disk drive?",
    "Who created the relational database and SQL?",
    "How many Nobel Prizes have IBM researchers won?",
    "How many Turing Awards went to IBM employees?",
    "Who patented the computing scale in 1885?",
    "What did Herman Hollerith patent?",
    "Who invented the time clock for recording workers?",
    "Who merged the four companies into CTR in 1911?",
    "How many employees did the first five companies have?",
    "Where was CTR based originally?",
    "How is IBM involved in quantum computing?",
    "What does IBM do in artificial intelligence?",
    "IBM automated teller machine history",
    "magnetic stripe card inventor",
    "dynamic random access memory DRAM invention",
    "UPC barcode origin",
    "history of punch card tabulating systems",
    "largest industrial research organization in the world",
    "mainframe computers System/360",
    "computer services software and scientific research since the 1990s",
)


def english_queries() -> list[str]:
    """English queries about the English passages' sentences, no two alike: a Cranfield query, an
    apidocs summary and a question about the IBM article in turn (ASCII only, so that a query's
    language is told by `str.isascii`), until the shortest source runs out, then the other two."""
    sources = [
        [q for q, _ in load_cranfield()[1]],
        [q for q, _ in load_apidocs()[1]][::5],  # every fifth: neighbours are one module's
        list(ENGLISH_QUERIES),
    ]
    out: list[str] = []
    for i in range(max(map(len, sources))):
        out += [source[i] for source in sources if i < len(source) and source[i].isascii()]
    return list(dict.fromkeys(out))


def mixed_queries(n: int, english: Sequence[str] | None = None) -> list[str]:
    """`n` queries alternating a CMRC question (Chinese) and an English one (the next of `english`,
    default `english_queries()`; repeated only after all were asked)."""
    cmrc = [q for q, _ in load_cmrc()[1]]
    english = english or english_queries()
    return [english[(i // 2) % len(english)] if i % 2 else cmrc[i // 2] for i in range(n)]


def build(size: int) -> Path:
    home = WORK / f"latency-{size}-{EMBEDDER}-{CORPUS}"
    if (home / ".complete").exists():
        return home
    texts = passages(size)
    rng = np.random.default_rng(size)
    with KnowledgeBase.open(home, "bench", embedder=EMBEDDER, english_index=True) as kb:
        kb.begin_write()
        for start in range(0, size, PER_FILE):
            part = [text for text, _ in texts[start : start + PER_FILE]]
            chunks = [
                StoredChunk(
                    f"f{start // PER_FILE}:{j}",
                    text,
                    {"source": f"/bench/{start // PER_FILE}.txt"},
                    tokens=tokens,
                )
                for j, (text, tokens) in enumerate(texts[start : start + PER_FILE])
            ]
            vectors = rng.standard_normal((len(part), 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            # Random vectors for both indexes, written as upsert_vectors would write them.
            meta = [c.metadata for c in chunks]
            kb.collection.upsert(
                ids=[c.id for c in chunks], documents=part, metadatas=meta, embeddings=vectors
            )
            english = [j for j, t in enumerate(part) if english_index_wanted(t)]
            if english:
                kb.english_collection.upsert(
                    ids=[chunks[j].id for j in english],
                    documents=[part[j] for j in english],
                    metadatas=[meta[j] for j in english],
                    embeddings=vectors[english][:, ::-1].copy(),
                )
            path = f"/bench/{start // PER_FILE}.txt"
            kb.commit_file(
                FileRecord(path, str(start), 0, 0, path, "text", tuple(c.id for c in chunks)), chunks
            )
        kb.end_write()
    (home / ".complete").touch()
    return home


def measure(home: Path, queries: list[str], *, english_index: bool = True) -> dict:
    with KnowledgeBase.open(home, "bench") as kb:
        if not english_index:  # the same base as one without an English index would be searched
            kb.english_embedder = kb.english_collection = None
        retriever = KBRetriever(kb)
        for q in queries[:6]:
            retriever.search(q)  # warm up: models and the dictionary loaded, page cache
        times: dict[str, list[float]] = {"zh": [], "en": []}
        for q in queries:
            start = time.perf_counter()
            retriever.search(q, k=6)
            times["en" if q.isascii() else "zh"].append(1000 * (time.perf_counter() - start))
        chunks = kb.index.counts()[1]
        retriever.close()
    every = sorted(times["zh"] + times["en"])
    row = {"chunks": chunks, "english_index": english_index, "queries": len(every), **percentiles("", every)}
    for language, measured in times.items():
        row.update(percentiles(f"{language}_", sorted(measured)))
    return row


def percentiles(prefix: str, times: list[float]) -> dict[str, float | None]:
    if not times:
        return {f"{prefix}median_ms": None, f"{prefix}p95_ms": None}
    return {
        f"{prefix}median_ms": statistics.median(times),
        f"{prefix}p95_ms": times[int(0.95 * (len(times) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "latency.json")
    args = parser.parse_args()
    queries = mixed_queries(args.queries)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        home = build(size)
        print(f"built {size} chunks in {time.perf_counter() - started:.0f} s", flush=True)
        if not args.build_only:
            for english_index in (False, True):  # in one run: compare within it
                rows.append(measure(home, queries, english_index=english_index))
                print(json.dumps(rows[-1]), flush=True)
    if rows:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
