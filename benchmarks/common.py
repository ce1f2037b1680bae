"""Shared helpers for the benchmarks: where the shared data is, the CMRC set, metrics."""

from __future__ import annotations

import gzip
import json
import platform
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
CMRC = SHARED_DATA / "retrieval" / "cmrc2018_trial.json"
TATOEBA = SHARED_DATA / "retrieval" / "tatoeba_cmn_eng.json"
CRANFIELD = REPO / "benchmarks" / "data" / "cranfield"
APIDOCS = REPO / "benchmarks" / "data" / "apidocs" / "apidocs.json.gz"


def load_cmrc() -> tuple[list[str], list[tuple[str, int]]]:
    """(contexts, [(question, index of its context)]) of the CMRC 2018 trial split."""
    data = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    contexts: list[str] = []
    queries: list[tuple[str, int]] = []
    for article in data:
        for paragraph in article["paragraphs"]:
            contexts.append(paragraph["context"])
            for qa in paragraph["qas"]:
                queries.append((qa["question"], len(contexts) - 1))
    return contexts, queries


def load_tatoeba(direction: str) -> tuple[list[str], list[tuple[str, int]]]:
    """(documents, [(query, index of its translation)]) of the Tatoeba cmn-eng pairs.

    `direction` "en-zh": English queries over the Chinese sentences; "zh-en": the reverse.
    """
    pairs = json.loads(TATOEBA.read_text(encoding="utf-8"))["pairs"]
    source, target = direction.split("-")
    return [p[target] for p in pairs], [(p[source], i) for i, p in enumerate(pairs)]


def load_apidocs(path: Path = APIDOCS) -> tuple[list[str], list[tuple[str, int]]]:
    """(documents, [(query, index of its document)]) of the English API-reference set.

    Documents are NumPy, SciPy and scikit-learn reference descriptions; each query is the
    one-line summary of one of them (benchmarks/data/apidocs/README.md).
    """
    items = json.loads(gzip.decompress(path.read_bytes()))["items"]
    return [item["text"] for item in items], [(item["query"], i) for i, item in enumerate(items)]


CRANFIELD_FILES = ("cran.all.1400", "cran.qry", "cranqrel")


def _cranfield_available(folder: Path = CRANFIELD) -> bool:
    return all((folder / f).is_file() for f in CRANFIELD_FILES)


def _smart_records(text: str) -> list[dict[str, str]]:
    """Records of the SMART format: `.I id`, then fields `.T` `.A` `.B` `.W` on their own lines."""
    records: list[dict[str, str]] = []
    field = None
    for line in text.splitlines():
        if line.startswith(".I"):
            records.append({"id": line[2:].strip()})
            field = None
        elif len(line) == 2 and line.startswith(".") and records:
            field = line[1]
            records[-1][field] = ""
        elif field and records:
            records[-1][field] += line.strip() + " "
    return records


def load_cranfield(folder: Path = CRANFIELD) -> tuple[list[str], list[tuple[str, frozenset[int]]]]:
    """(abstracts, [(query, indexes of its relevant abstracts)]) of the Cranfield collection.

    Reads the three original files in benchmarks/data/cranfield (see its README). An abstract's
    text (`.W`) begins with its title. Relevance grades 1-3 count as relevant (4, "of minimum
    interest", and -1 do not); queries with no relevant abstract are left out. cranqrel numbers
    the queries 1..225 in file order, not by their `.I` ids (which have gaps).
    """
    docs = _smart_records((folder / "cran.all.1400").read_text(encoding="utf-8", errors="replace"))
    index = {int(d["id"]): i for i, d in enumerate(docs)}
    queries = _smart_records((folder / "cran.qry").read_text(encoding="utf-8", errors="replace"))
    relevant: dict[int, set[int]] = {}
    for line in (folder / "cranqrel").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 3 and int(parts[1]) in index and 1 <= int(parts[2]) <= 3:
            relevant.setdefault(int(parts[0]), set()).add(index[int(parts[1])])
    texts = [" ".join(d.get("W", "").split()) for d in docs]
    return texts, [
        (" ".join(q.get("W", "").split()), frozenset(relevant[n]))
        for n, q in enumerate(queries, start=1)
        if n in relevant
    ]


load_cranfield.available = _cranfield_available  # type: ignore[attr-defined]


def rank_metrics(ranked: list[list[int]], relevant: list) -> dict[str, float]:
    """recall@1/5/10 and MRR@10.

    `relevant` holds one document per query, or a set of them: then recall@k counts a query as
    found when any of its relevant documents is in the top k (success@k), and MRR uses the first.
    """
    wanted = [rel if isinstance(rel, (set, frozenset)) else {rel} for rel in relevant]
    n = len(wanted)
    out = {}
    for k in (1, 5, 10):
        out[f"recall@{k}"] = sum(bool(rel & set(r[:k])) for r, rel in zip(ranked, wanted, strict=True)) / n
    mrr = 0.0
    for r, rel in zip(ranked, wanted, strict=True):
        first = next((i for i, d in enumerate(r[:10]) if d in rel), None)
        if first is not None:
            mrr += 1 / (first + 1)
    out["mrr@10"] = mrr / n
    return out


@contextmanager
def timer():
    box = {}
    start = time.perf_counter()
    yield box
    box["seconds"] = time.perf_counter() - start


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
