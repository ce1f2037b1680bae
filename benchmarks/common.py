"""Shared helpers for the benchmarks: where the shared data is, the dev sets, metrics."""

from __future__ import annotations

import gzip
import json
import math
import platform
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
CMRC = SHARED_DATA / "retrieval" / "cmrc2018_trial.json"
TATOEBA = SHARED_DATA / "retrieval" / "tatoeba_cmn_eng.json"
CRANFIELD = SHARED_DATA / "retrieval" / "cranfield"
APIDOCS = REPO / "benchmarks" / "data" / "apidocs" / "apidocs.json.gz"
DJANGO_I18N = REPO / "benchmarks" / "data" / "django_i18n" / "pairs.json"
POEMS = SHARED_DATA / "docs" / "zh" / "poet.tang.11000.json"
PARAPHRASES = REPO / "benchmarks" / "data" / "poetry" / "paraphrases.tsv"


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


def load_django_i18n(direction: str, path: Path = DJANGO_I18N) -> tuple[list[str], list[tuple[str, int]]]:
    """(documents, [(query, index of its translation)]) of Django's messages (benchmarks/data/django_i18n).

    "en-zh": English messages as queries over their Chinese translations, simplified and
    traditional alternating; "zh-en": those Chinese translations as queries over the English.
    """
    pairs = json.loads(path.read_text(encoding="utf-8"))["pairs"]
    chinese = [p["zh_Hans"] if i % 2 == 0 else p["zh_Hant"] for i, p in enumerate(pairs)]
    english = [p["en"] for p in pairs]
    docs, queries = (chinese, english) if direction == "en-zh" else (english, chinese)
    return docs, [(q, i) for i, q in enumerate(queries)]


def load_apidocs(path: Path = APIDOCS) -> tuple[list[str], list[tuple[str, int]]]:
    """(documents, [(query, index of its document)]) of the English API-reference set.

    Documents are NumPy, SciPy and scikit-learn reference descriptions; each query is the
    one-line summary of one of them (benchmarks/data/apidocs/README.md).
    """
    items = json.loads(gzip.decompress(path.read_bytes()))["items"]
    return [item["text"] for item in items], [(item["query"], i) for i, item in enumerate(items)]


def load_poetry(
    poems: Path = POEMS, paraphrases: Path = PARAPHRASES
) -> tuple[list[str], list[tuple[str, int]]]:
    """(poems, [(modern-Chinese paraphrase, index of its poem)]): 1,000 Du Fu poems in traditional
    characters, each as `author《title》text`, and the paraphrases in benchmarks/data/poetry."""
    data = json.loads(poems.read_text(encoding="utf-8"))
    docs = [f"{p['author']}《{p['title']}》{''.join(p['paragraphs'])}" for p in data]
    queries = []
    for line in paraphrases.read_text(encoding="utf-8").splitlines():
        if line.strip():
            index, query = line.split("\t", 1)
            queries.append((query.strip(), int(index)))
    return docs, queries


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


def load_cranfield(folder: Path = CRANFIELD) -> tuple[list[str], list[tuple[str, dict[int, int]]]]:
    """(abstracts, [(query, {index of a relevant abstract: its gain})]) of the Cranfield collection.

    Reads the three original files (../shared/data/retrieval/cranfield, see
    ../shared/data/README.md). An abstract's text (`.W`) begins with its title. Cleverdon's grades
    1 (a complete answer) to 3 (useful background) are relevant, with gains 3, 2, 1 for nDCG;
    4 ("of minimum interest") and -1 are not. Queries with no relevant abstract are left out.
    cranqrel numbers the queries 1..225 in file order, not by their `.I` ids (which have gaps).
    """
    docs = _smart_records((folder / "cran.all.1400").read_text(encoding="utf-8", errors="replace"))
    index = {int(d["id"]): i for i, d in enumerate(docs)}
    queries = _smart_records((folder / "cran.qry").read_text(encoding="utf-8", errors="replace"))
    relevant: dict[int, dict[int, int]] = {}
    for line in (folder / "cranqrel").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 3 and int(parts[1]) in index and 1 <= int(parts[2]) <= 3:
            gains = relevant.setdefault(int(parts[0]), {})
            gains[index[int(parts[1])]] = max(gains.get(index[int(parts[1])], 0), 4 - int(parts[2]))
    texts = [" ".join(d.get("W", "").split()) for d in docs]
    return texts, [
        (" ".join(q.get("W", "").split()), relevant[n])
        for n, q in enumerate(queries, start=1)
        if n in relevant
    ]


load_cranfield.available = _cranfield_available  # type: ignore[attr-defined]


def gains(relevant: object) -> dict[int, float]:
    """A query's relevant documents with their gains: one document or a set (gain 1 each), or
    a mapping of graded gains."""
    if isinstance(relevant, dict):
        return {d: float(g) for d, g in relevant.items() if g > 0}
    if isinstance(relevant, (set, frozenset)):
        return dict.fromkeys(relevant, 1.0)
    return {relevant: 1.0}  # type: ignore[dict-item]


def rank_metrics(ranked: list[list[int]], relevant: list) -> dict[str, float]:
    """recall@1/5/10, MRR@10 and nDCG@10.

    `relevant` holds per query one document, a set of them, or {document: gain}: recall@k counts
    a query as found when any relevant document is in the top k (success@k), MRR uses the first,
    nDCG@10 the gains (1 for each document of a set) with log2 discounts.
    """
    wanted = [gains(rel) for rel in relevant]
    n = len(wanted)
    out = {}
    for k in (1, 5, 10):
        out[f"recall@{k}"] = (
            sum(bool(rel.keys() & set(r[:k])) for r, rel in zip(ranked, wanted, strict=True)) / n
        )
    mrr = ndcg = 0.0
    for r, rel in zip(ranked, wanted, strict=True):
        first = next((i for i, d in enumerate(r[:10]) if d in rel), None)
        if first is not None:
            mrr += 1 / (first + 1)
        dcg = sum(rel.get(d, 0.0) / math.log2(i + 2) for i, d in enumerate(r[:10]))
        ideal = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(rel.values(), reverse=True)[:10]))
        ndcg += dcg / ideal if ideal else 0.0
    out["mrr@10"] = mrr / n
    out["ndcg@10"] = ndcg / n
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
