"""Follow-up questions in a chat: does turn 2 retrieve what it should (issue 18, item 3)?

Two-turn dev sets, each turn 2 labelled with the document(s) that answer it:

- **topic change**: turn 1 asks about one document, turn 2 about another, naming its own topic.
  Turn 2 must retrieve at least as well as the same question asked alone. (CMRC also has a
  harder row, "topic, any question": turn 2 is any question of another article, and some of
  those refer back by their form, "其地理位置的重要性…", as a follow-up would.)
- **dependent**: turn 2 continues turn 1 and cannot be understood alone (its topic replaced by a
  pronoun, or a follow-up such as "What does it return?"). Turn 2 must retrieve better than the
  same question asked alone.

Sets: `cmrc` (CMRC 2018 trial: turn 1 a question about one Wikipedia context that names the
article; topic change: turn 2 a question about another article; dependent: another question
about the same article with the article's name replaced by 它), `apidocs` (English reference
text, benchmarks/data/apidocs: turn 1 a document's one-line summary; topic change: another's
summary; dependent: a generic follow-up about it), `cranfield` (English aerodynamics queries with
human judgements, topic changes only: its queries have no entity to replace), `docs` (the shared
mixed-format folder, questions written by hand in Chinese and English, such as issue 18's).

Each turn 2 is retrieved three ways through the product's retriever (the default embedder and
English index): alone; as a chat does (`assistant.chat.pipeline.retrieve_turn`); and with the rule
it replaced (the previous question put in front of every question under 40 characters or with a
pronoun), for comparison. Bases are built once under benchmarks/.work/followups.

    python -m benchmarks.followups [--sets cmrc,apidocs,cranfield,docs] [--limit 300]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.chat.followups import depends_on_conversation
from assistant.chat.pipeline import retrieve_turn
from assistant.chat.prompt import Turn
from assistant.session import Session
from assistant.settings import load_settings
from benchmarks.common import CMRC, SHARED_DATA, load_apidocs, load_cranfield, machine

WORK = Path(__file__).resolve().parent / ".work" / "followups"
RESULTS = Path(__file__).resolve().parent / "results"
SEED = 18
TEMPLATES = (
    "What parameters does it take?",
    "What does it return?",
    "How is it computed?",
    "What are its limitations?",
    "Which arguments does it accept?",
    "Can you explain that in more detail?",
)
#: (turn 1, turn 2, files that answer turn 2, kind) over ../shared/data/docs.
DOCS_PAIRS = [
    ("数据安全法规定的数据处理者有哪些义务？", "杜甫的《登高》写了什么？", {"poet.tang.11000.json"}, "topic"),
    ("杜甫的《登高》写了什么？", "个人信息处理者应当履行哪些义务？", {"个人信息保护法.md"}, "topic"),
    ("大模型推理有哪些优化策略？", "What is a duckling?", {"wiki_duck.html", "wiki.md"}, "topic"),
    ("What is AutoGen?", "分布式训练的数据并行是什么？", {"分布式训练技术原理.md"}, "topic"),
    ("What is a duckling?", "数据安全法由哪个机关通过？", {"数据安全法.md"}, "topic"),
    ("个人信息保护法适用于哪些活动？", "What is AutoGen used for?", {"autogen.pdf", "autogen.docx"}, "topic"),
    ("杜甫的《登高》写了什么？", "他还写了哪些秋天的诗？", {"poet.tang.11000.json"}, "dependent"),
    ("数据安全法规定的数据处理者有哪些义务？", "违反它要承担什么法律责任？", {"数据安全法.md"}, "dependent"),
    ("个人信息保护法规定了哪些个人权利？", "其中的删除权是什么？", {"个人信息保护法.md"}, "dependent"),
    ("大模型推理有哪些优化策略？", "第二个具体怎么做？", {"大模型推理优化策略.md"}, "dependent"),
    ("分布式训练有哪些并行方式？", "那流水线并行呢？", {"分布式训练技术原理.md"}, "dependent"),
    ("What is AutoGen?", "Who developed it?", {"autogen.pdf", "autogen.docx"}, "dependent"),
    ("What is a duckling?", "What do they eat?", {"wiki_duck.html", "wiki.md"}, "dependent"),
    ("What is AutoGen?", "What about its agents?", {"autogen.pdf", "autogen.docx"}, "dependent"),
]


@dataclass(frozen=True)
class Pair:
    first: str
    second: str
    relevant: frozenset[str]
    kind: str  # "topic", "topic, any question" or "dependent"


def previous_rule(question: str, history: list[Turn]) -> str:
    """The rule `retrieval_query` replaced, kept here only to compare against."""
    referring = re.compile(
        r"他|她|它|这|那|其|该|此|上述|\b(he|she|it|they|this|that|these|those|his|her|its|their)\b", re.I
    )
    if history and (len(question) < 40 or referring.search(question)):
        return f"{history[-1].question} {question}"
    return question


# --- dev sets -------------------------------------------------------------------------------------
def cmrc_set(limit: int, rng: random.Random) -> tuple[dict[str, str], list[Pair]]:
    articles = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    docs: dict[str, str] = {}
    named: list[tuple[str, str, str]] = []  # (doc, title, question naming the title)
    every: list[tuple[str, str]] = []
    for a, article in enumerate(articles):
        title = article["title"].strip()
        for p, paragraph in enumerate(article["paragraphs"]):
            doc = f"cmrc-{a:03d}-{p}.txt"
            docs[doc] = paragraph["context"]
            for qa in paragraph["qas"]:
                every.append((doc, qa["question"]))
                if title and title in qa["question"]:
                    named.append((doc, title, qa["question"]))
    pairs = []
    # A topic change names its new topic (here: the article's name); as a harder check, any
    # question of another article, some of which refer back by their form ("其地理位置…").
    for doc, _, question in rng.sample(named, min(limit, len(named))):
        first = rng.choice([n for n in named if n[0] != doc])
        pairs.append(Pair(first[2], question, frozenset({doc}), "topic"))
    for doc, question in rng.sample(every, min(limit, len(every))):
        first = rng.choice([n for n in named if n[0] != doc])
        pairs.append(Pair(first[2], question, frozenset({doc}), "topic, any question"))
    dependent = []
    for doc, title, question in named:
        others = [n for n in named if n[0] == doc and n[2] != question]
        if others:
            rewritten = question.replace(f"《{title}》", "它").replace(title, "它")
            dependent.append(Pair(rng.choice(others)[2], rewritten, frozenset({doc}), "dependent"))
    return docs, pairs + rng.sample(dependent, min(limit, len(dependent)))


def apidocs_set(limit: int, rng: random.Random) -> tuple[dict[str, str], list[Pair]]:
    texts, queries = load_apidocs()
    chosen = rng.sample(range(len(texts)), min(2 * limit, len(texts)))
    docs = {f"api-{i:04d}.txt": texts[i] for i in chosen}
    pairs = []
    for n, i in enumerate(chosen[:limit]):
        j = rng.choice([c for c in chosen if c != i])
        pairs.append(Pair(queries[j][0], queries[i][0], frozenset({f"api-{i:04d}.txt"}), "topic"))
        template = TEMPLATES[n % len(TEMPLATES)]
        pairs.append(Pair(queries[i][0], template, frozenset({f"api-{i:04d}.txt"}), "dependent"))
    return docs, pairs


def cranfield_set(limit: int, rng: random.Random) -> tuple[dict[str, str], list[Pair]]:
    texts, queries = load_cranfield(SHARED_DATA / "retrieval" / "cranfield")
    picked = rng.sample(range(len(queries)), min(limit, len(queries)))
    wanted = set().union(*(queries[q][1] for q in picked))
    wanted |= set(rng.sample(range(len(texts)), min(len(texts), 2 * limit)))
    docs = {f"cran-{i:04d}.txt": texts[i] for i in sorted(wanted)}
    pairs = []
    for q in picked:
        other = rng.choice([o for o in picked if o != q])
        relevant = frozenset(f"cran-{i:04d}.txt" for i in queries[q][1])
        pairs.append(Pair(queries[other][0], queries[q][0], relevant, "topic"))
    return docs, pairs


def docs_set(limit: int, rng: random.Random) -> tuple[Path, list[Pair]]:
    pairs = [Pair(a, b, frozenset(rel), kind) for a, b, rel, kind in DOCS_PAIRS]
    return SHARED_DATA / "docs", pairs


SETS: dict[str, Callable] = {
    "cmrc": cmrc_set,
    "apidocs": apidocs_set,
    "cranfield": cranfield_set,
    "docs": docs_set,
}


# --- retrieval through the product ----------------------------------------------------------------
def base_for(session: Session, name: str, docs: dict[str, str] | Path) -> None:
    """Ingest the set's documents into base `name` (once: a finished base is kept)."""
    done = WORK / f"{name}.done"
    if done.exists() and name in session.knowledge_bases():
        return
    if isinstance(docs, Path):
        folder = docs
    else:
        folder = WORK / "docs" / name
        folder.mkdir(parents=True, exist_ok=True)
        for file, text in docs.items():
            (folder / file).write_text(text, encoding="utf-8")
    started = time.perf_counter()
    summary = session.ingest(folder, name)
    print(f"  built base {name}: {summary.chunks_added} chunks in {time.perf_counter() - started:.0f} s")
    done.write_text("ok")


def documents(sources: list) -> list[str]:
    """File names of retrieved sources, best first, each once."""
    names = [Path((s.uri or s.location).split(" › ")[0]).name for s in sources]
    return list(dict.fromkeys(names))


def score(ranked: list[list[str]], pairs: list[Pair]) -> dict[str, float]:
    n = len(pairs) or 1
    return {
        "top1": sum(bool(r[:1]) and r[0] in p.relevant for r, p in zip(ranked, pairs, strict=True)) / n,
        "r5": sum(bool(set(r[:5]) & p.relevant) for r, p in zip(ranked, pairs, strict=True)) / n,
    }


def _alone(retriever, pair: Pair) -> list:
    return retriever.search(pair.second, k=K).sources


def _before(retriever, pair: Pair) -> list:
    return retriever.search(previous_rule(pair.second, [Turn(pair.first, "")]), k=K).sources


def _ours(retriever, pair: Pair) -> list:
    """What the chat does (`Assistant.ask` calls `retrieve_turn` with the conversation)."""
    return retrieve_turn(retriever, pair.second, [Turn(pair.first, "")], k=K).sources


#: Sources per search: enough for five distinct documents (at most 3 passages come from one).
K = 12
METHODS: dict[str, Callable] = {"alone": _alone, "before": _before, "ours": _ours}


def evaluate(session: Session, name: str, pairs: list[Pair]) -> list[dict]:
    retriever = session.retrievers(name)
    rows = []
    for kind in dict.fromkeys(p.kind for p in pairs):
        chosen = [p for p in pairs if p.kind == kind]
        row: dict = {"set": name, "kind": kind, "pairs": len(chosen)}
        row["classified_dependent"] = sum(depends_on_conversation(p.second) for p in chosen) / len(chosen)
        for method, search in METHODS.items():
            ranked = [documents(search(retriever, p)) for p in chosen]
            for metric, value in score(ranked, chosen).items():
                row[f"{method}_{metric}"] = round(value, 3)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--limit", type=int, default=300, help="pairs of each kind per set (at most)")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    settings = load_settings(environ={"ASSISTANT_HOME": str(WORK / "home")})
    session = Session(settings)
    print(f"machine: {machine()}")
    rows = []
    try:
        for name in args.sets.split(","):
            docs, pairs = SETS[name](args.limit, random.Random(SEED))
            base_for(session, name, docs)
            rows += evaluate(session, name, pairs)
    finally:
        session.close()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "limit": args.limit, "rows": rows}
    (RESULTS / "followups.json").write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    methods = " | ".join(f"{m} top-1 / R@5" for m in METHODS)
    print(f"| set | turn 2 | pairs | judged dependent | {methods} |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['set']} | {r['kind']} | {r['pairs']} | {r['classified_dependent']:.2f} | "
            + " | ".join(f"{r[m + '_top1']:.3f} / {r[m + '_r5']:.3f}" for m in METHODS)
            + " |"
        )


if __name__ == "__main__":
    main()
