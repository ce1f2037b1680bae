"""Running a suite against models through the same pipeline users chat with, resumably.

Each (model, task, repeat) result is appended to `results.jsonl` in the report folder as soon as
it is graded; a rerun with the same folder skips what is done, so an interrupted run keeps its
results and resumes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..chat.events import Final, Notice
from ..session import Session
from .graders import Grade, GraderError, find_grader
from .suite import Suite, Task

RESULTS = "results.jsonl"


@dataclass
class Record:
    model: str
    task: str
    repeat: int
    passed: bool
    score: float
    detail: str
    unverified: list[str] = field(default_factory=list)
    answer: str = ""
    reasoning_chars: int = 0
    eval_tokens: int = 0
    time_to_first_token: float | None = None
    reasoning_seconds: float | None = None
    tokens_per_second: float | None = None
    total_seconds: float = 0.0
    memory_bytes: int | None = None
    error: str | None = None
    #: Warnings of the run (a part that failed and what the answer did without it: an embedder
    #: gone -> ranked by words, a reranker -> fused order, the web -> the knowledge base only).
    notices: list[str] = field(default_factory=list)


def grade(task: Task, final: Final) -> Grade:
    """Grade one answer with the task's registered grader; a grader that cannot be loaded (a
    broken plugin) fails this result, saying why."""
    try:
        grader = find_grader(task.grader)
    except GraderError as exc:
        return Grade(False, 0.0, str(exc))
    return grader(final.answer, task.expected, [s.to_dict() for s in final.sources])


def load_records(out: Path) -> list[Record]:
    path = out / RESULTS
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                records.append(Record(**json.loads(line)))
            except (json.JSONDecodeError, TypeError):
                continue  # a line cut by an interrupted write: that result is simply rerun
    return records


def run_bench(
    session: Session,
    models: Iterable[str],
    suite: Suite,
    out: Path,
    *,
    repeat: int = 1,
    kb: str | None = None,
    web: bool = True,
    on_record: Callable[[Record, bool], None] | None = None,
) -> list[Record]:
    """Run every task `repeat` times on each model; `on_record(record, resumed)` sees each result."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "suite.json").write_text(
        json.dumps(
            {"name": suite.name, "path": str(suite.path), "tasks": [asdict(t) for t in suite.tasks]},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    done = {(r.model, r.task, r.repeat): r for r in load_records(out)}
    records: list[Record] = []
    with (out / RESULTS).open("a", encoding="utf-8") as sink:
        for model in models:
            for task in suite.tasks:
                for n in range(1, repeat + 1):
                    key = (model, task.id, n)
                    if key in done:
                        records.append(done[key])
                        if on_record:
                            on_record(done[key], True)
                        continue
                    record = run_one(session, model, task, n, kb=kb, web=web)
                    sink.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
                    sink.flush()
                    records.append(record)
                    if on_record:
                        on_record(record, False)
    return records


def run_one(session: Session, model: str, task: Task, n: int, *, kb: str | None, web: bool) -> Record:
    started = time.perf_counter()
    final: Final | None = None
    errors: list[str] = []
    notices: list[str] = []
    # Tasks without `kb: true` get no knowledge-base sources ("-" names no base).
    for event in session.ask(
        task.prompt, web=task.web and web, kb=kb if task.kb else "-", model=model, think=task.think
    ):
        if isinstance(event, Notice):
            (errors if event.level == "error" else notices).append(event.text)
        elif isinstance(event, Final):
            final = event
    if final is None or (not final.answer and errors):
        return Record(
            model,
            task.id,
            n,
            False,
            0.0,
            "no answer",
            # Nothing was left to answer from: the warnings say which parts failed and why.
            error="; ".join(notices + errors) or "no answer",
            total_seconds=time.perf_counter() - started,
            notices=notices,
        )
    g = grade(task, final)
    if task.web and not web:
        g.unverified.append("web search was off for this run")
    st = final.stats
    return Record(
        model=model,
        task=task.id,
        repeat=n,
        passed=g.passed,
        score=g.score,
        detail=g.detail,
        unverified=g.unverified,
        answer=final.answer,
        reasoning_chars=len(final.reasoning),
        eval_tokens=st.eval_tokens,
        time_to_first_token=st.time_to_first_token,
        reasoning_seconds=st.reasoning_seconds,
        tokens_per_second=st.tokens_per_second,
        total_seconds=st.total_seconds,
        memory_bytes=session.loaded_memory(model),
        error="; ".join(errors) or None,
        notices=notices,
    )


def summarize(records: list[Record]) -> dict[str, Any]:
    """Per model and task: pass rate, mean score, stability, speed; and per model overall."""
    from statistics import median

    from .graders import stability

    by_model: dict[str, dict[str, list[Record]]] = {}
    for r in records:
        by_model.setdefault(r.model, {}).setdefault(r.task, []).append(r)
    summary: dict[str, Any] = {}
    for model, tasks in by_model.items():
        rows = {}
        for task, rs in tasks.items():
            speeds = [r.tokens_per_second for r in rs if r.tokens_per_second]
            ttfts = [r.time_to_first_token for r in rs if r.time_to_first_token is not None]
            thinking = [r.reasoning_seconds for r in rs if r.reasoning_seconds is not None]
            rows[task] = {
                "runs": len(rs),
                "pass_rate": sum(r.passed for r in rs) / len(rs),
                "score": sum(r.score for r in rs) / len(rs),
                "stability": stability([r.answer for r in rs]),
                "tokens_per_second": median(speeds) if speeds else None,
                "time_to_first_token": median(ttfts) if ttfts else None,
                "reasoning_seconds": median(thinking) if thinking else None,
                "eval_tokens": median([r.eval_tokens for r in rs]),
                "detail": rs[-1].detail,
                "unverified": sorted({u for r in rs for u in r.unverified}),
            }
        all_records = [r for rs in tasks.values() for r in rs]
        speeds = [r.tokens_per_second for r in all_records if r.tokens_per_second]
        memory = [r.memory_bytes for r in all_records if r.memory_bytes]
        summary[model] = {
            "tasks": rows,
            "quality": sum(row["score"] for row in rows.values()) / len(rows),
            "pass_rate": sum(row["pass_rate"] for row in rows.values()) / len(rows),
            "tokens_per_second": median(speeds) if speeds else None,
            "peak_memory_bytes": max(memory) if memory else None,
        }
    return summary
