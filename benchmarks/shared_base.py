"""A shared base of 100,000 chunks on a Chroma server, used from a second home folder.

Starts `chroma run` on loopback (or uses --url), builds the base from home A (real Chinese and
English passages, random unit vectors as in benchmarks/latency.py: embedding 100,000 passages
would take hours here), then from home B, which has never seen the base, measures:
- the time to build B's cache of the record from scratch (opening the base the first time);
- knowledge-base query latency from B with a warm cache: the whole hybrid search (query embedded
  by the base's embedder, lexical search in the cache, dense search on the server, fusion), p50
  and p95;
- the time for B to catch up after A changes one file (an incremental refresh).

    python -m benchmarks.shared_base [--chunks 100000] [--queries 200] [--url http://HOST:PORT]
                                     [--work benchmarks/.work/shared-base]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.retrieval import KBRetriever
from benchmarks.common import machine
from benchmarks.latency import ENGLISH_QUERIES, mixed_queries, passages
from benchmarks.servers import chroma_process, free_port
from vectorstore import FileRecord, KnowledgeBase, StoredChunk

EMBEDDER = "e5"
PER_FILE = 250


def build(home: Path, url: str, size: int) -> float:
    texts = passages(size)
    rng = np.random.default_rng(size)
    started = time.perf_counter()
    with KnowledgeBase.open(home, "bench", embedder=EMBEDDER, chroma_url=url, english_index=False) as kb:
        kb.begin_write()
        for start in range(0, size, PER_FILE):
            part = texts[start : start + PER_FILE]
            path = f"bench/{start // PER_FILE}.txt"
            chunks = [
                StoredChunk(f"f{start // PER_FILE}:{j}", text, {"source": path}, tokens=tokens)
                for j, (text, tokens) in enumerate(part)
            ]
            vectors = rng.standard_normal((len(part), 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            kb.upsert_vectors(chunks, vectors.tolist())
            kb.commit_file(
                FileRecord(path, str(start), 0, 0, path, "text", tuple(c.id for c in chunks)), chunks
            )
            if start % 10_000 == 0:
                print(f"  {start} chunks written", flush=True)
        kb.end_write()
    return time.perf_counter() - started


def measure(home: Path, url: str, queries: list[str]) -> dict:
    started = time.perf_counter()
    kb = KnowledgeBase.open(home, "bench", chroma_url=url, create=False)
    cache_build = time.perf_counter() - started
    chunks = kb.stats().chunks
    retriever = KBRetriever(kb)
    for q in queries[:5]:
        retriever.search(q)  # warm up: model load, page cache
    times = []
    for q in queries:
        start = time.perf_counter()
        retriever.search(q, k=6)
        times.append(1000 * (time.perf_counter() - start))
    retriever.close()
    kb.close()
    times.sort()
    return {
        "chunks_in_cache": chunks,
        "cache_build_s": round(cache_build, 1),
        "queries": len(times),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
    }


def incremental(home_a: Path, home_b: Path, url: str) -> dict:
    reader = KnowledgeBase.open(home_b, "bench", chroma_url=url, create=False)
    with KnowledgeBase.open(home_a, "bench", chroma_url=url, create=False) as writer:
        writer.begin_write()
        path = "bench/0.txt"
        chunks = [
            StoredChunk(f"f0:new{j}", f"an edited passage {j} about lanterns", {"source": path})
            for j in range(10)
        ]
        vectors = np.random.default_rng(1).standard_normal((10, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        writer.upsert_vectors(chunks, vectors.tolist())
        writer.commit_file(
            FileRecord(path, "edited", 0, 0, path, "text", tuple(c.id for c in chunks)), chunks
        )
        writer.end_write()
    started = time.perf_counter()
    changed = reader.refresh()
    seconds = time.perf_counter() - started
    found = reader.lexical_search("lanterns", 1)
    reader.close()
    return {"files_changed": changed, "refresh_ms": round(1000 * seconds, 1), "found": bool(found)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--url", help="an existing Chroma server (default: start one on loopback)")
    parser.add_argument(
        "--work",
        type=Path,
        help="keep the server's data and both homes here, and reuse a base built there before "
        "(e.g. benchmarks/.work/shared-base); default: a temporary folder",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "shared_base.json")
    args = parser.parse_args()
    english = ENGLISH_QUERIES[:2] + ENGLISH_QUERIES[3:]  # the latency benchmark's, less one
    queries = mixed_queries(args.queries, english)
    work = args.work or Path(tempfile.mkdtemp(prefix="shared-base-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.url:
            result = run(args, work, args.url, queries)
        else:
            # A kept base is served on the same port each time: a cache belongs to a server URL.
            saved = work / "port"
            port = int(saved.read_text()) if args.work and saved.exists() else free_port()
            saved.write_text(str(port))
            with chroma_process(work, port) as url:
                result = run(args, work, url, queries)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine(), **result}, indent=2))
    print(json.dumps(result, indent=2))


def run(args, work: Path, url: str, queries: list[str]) -> dict:
    home_a, home_b = work / "home-a", work / "home-b"
    done = work / f".built-{args.chunks}"
    if done.exists():
        built = float(done.read_text())
        print(f"reusing the base of {args.chunks} chunks built in {work}", flush=True)
    else:
        built = build(home_a, url, args.chunks)
        done.write_text(str(built))
        print(f"built {args.chunks} chunks from home A in {built:.0f} s", flush=True)
    shutil.rmtree(home_b, ignore_errors=True)  # B has never seen the base
    second = measure(home_b, url, queries)
    print(json.dumps(second), flush=True)
    # The builder's own cache, for comparison: it was written along with the record.
    first = measure(home_a, url, queries)
    return {
        "chunks": args.chunks,
        "embedder": EMBEDDER,
        "build_from_home_a_s": round(built, 1),
        "home_b_never_saw_it": second,
        "home_a_built_it": first,
        "after_one_file_changed": incremental(home_a, home_b, url),
    }


if __name__ == "__main__":
    main()
