"""How the injection flags (assistant/web/injection.py) do: recall on the dev set of phrasings
that must be flagged (tests/data/injection_dev.json, English and Chinese, simplified and
traditional), false positives on its benign look-alikes, and false positives on ordinary text:
every chunk of ../shared/data/docs as an ingest chunks it, the CMRC 2018 contexts and questions,
the Tatoeba sentences and the Cranfield abstracts. Prints one table (and any text flagged that
should not be), and the time per passage.

    python benchmarks/injection_flags.py
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.settings import Settings  # noqa: E402
from assistant.web.injection import looks_like_injection  # noqa: E402
from benchmarks.common import SHARED_DATA, load_apidocs, load_cmrc, load_tatoeba, machine  # noqa: E402
from ingest.chunking import Chunker  # noqa: E402
from ingest.formats import UnreadableFileError, parse  # noqa: E402

DEV_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "injection_dev.json"


def doc_chunks() -> list[tuple[str, str]]:
    """(file, chunk text) for every chunk of the shared documents, chunked as an ingest does."""
    defaults = Settings()
    chunker = Chunker(defaults.chunk_size, defaults.chunk_overlap)
    chunks = []
    for path in sorted((SHARED_DATA / "docs").rglob("*")):
        if not path.is_file():
            continue
        try:
            kind, doc = parse(path, path.read_bytes())
        except UnreadableFileError:
            continue
        for chunk in chunker.chunk(doc, source=str(path), content_hash="", kind=kind):
            chunks.append((path.name, chunk.text))
    return chunks


def prose() -> dict[str, list[str]]:
    """The dev sets' texts: Chinese Wikipedia, everyday sentences in both languages, scientific
    abstracts and API reference pages (where "run the following command" is ordinary)."""
    contexts, questions = load_cmrc()
    chinese, english = load_tatoeba("en-zh")
    apidocs, api_queries = load_apidocs()
    abstracts = (SHARED_DATA / "retrieval" / "cranfield" / "cran.all.1400").read_text(encoding="utf-8")
    return {
        "CMRC 2018 contexts and questions": contexts + [q for q, _ in questions],
        "Tatoeba sentences (en, zh)": chinese + [e for e, _ in english],
        "Cranfield abstracts": [a for a in abstracts.split(".I ") if a.strip()],
        "API reference pages and queries (benchmarks/data/apidocs)": apidocs + [q for q, _ in api_queries],
    }


def main() -> None:
    dev = json.loads(DEV_SET.read_text(encoding="utf-8"))
    started = time.perf_counter()
    rows = []
    missed = [case for case in dev["flagged"] if not looks_like_injection(case["text"])]
    by_lang = Counter(case["lang"] for case in dev["flagged"])
    rows.append(
        ("dev set: must be flagged " + str(dict(by_lang)), len(dev["flagged"]), len(missed), "missed")
    )
    wrong = [case for case in dev["benign"] if looks_like_injection(case["text"])]
    rows.append(("dev set: benign look-alikes", len(dev["benign"]), len(wrong), "flagged"))
    texts = doc_chunks()
    flagged_docs = [(name, text) for name, text in texts if looks_like_injection(text)]
    files = len({name for name, _ in texts})
    rows.append((f"chunks of ../shared/data/docs ({files} files)", len(texts), len(flagged_docs), "flagged"))
    flagged_prose = []
    passages = len(texts) + len(dev["flagged"]) + len(dev["benign"])
    for name, items in prose().items():
        hits = [t for t in items if looks_like_injection(t)]
        flagged_prose += hits
        passages += len(items)
        rows.append((name, len(items), len(hits), "flagged"))
    elapsed = time.perf_counter() - started

    print("| text | passages | wrong | rate |")
    print("|---|---|---|---|")
    for label, total, bad, what in rows:
        print(f"| {label} | {total} | {bad} {what} | {bad / total:.1%} |")
    print(f"\n{passages} passages checked in {elapsed:.1f} s (parsing and chunking included)")
    every = [text for _, text in texts] + [text for items in prose().values() for text in items]
    clock = time.perf_counter()
    for text in every:
        looks_like_injection(text)
    per = (time.perf_counter() - clock) / len(every)
    print(f"looks_like_injection: {per * 1000:.3f} ms per passage ({len(every)} passages, {machine()})")
    for case in missed:
        print("missed:", case["text"])
    for case in wrong:
        print("benign but flagged:", case["text"])
    for name, text in flagged_docs:
        print(f"flagged in {name}:", text[:200].replace("\n", " "))
    for text in flagged_prose:
        print("flagged prose:", text[:200].replace("\n", " "))


if __name__ == "__main__":
    main()
