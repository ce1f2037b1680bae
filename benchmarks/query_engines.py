"""The query embedders' engines side by side: e5 and MiniLM, one query at a time, as a search runs
them. Each engine is measured in a new process of its own (so that one's memory is not
another's), the processes interleaved round by round:

- `streamed`: NumPy, the layers read (e5: dequantized) as they run, as a one-shot command does;
- `numpy`: NumPy with the layers kept (what a long-lived process ran before ONNX Runtime);
- `onnxruntime`: the ONNX Runtime graph a long-lived process runs from its second query on
  (e5's matrices in their 4-bit blocks, MiniLM's in float32).

Per engine and model: the median and p95 of 100 varied English queries (benchmarks.latency's),
the second query's time (it builds the kept engine), and how much the process's resident memory
grew from after a first, streamed query (the model's files mapped, as in every engine) to after
the last.

    python -m benchmarks.query_engines [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import REPO, machine

ENGINES = ("streamed", "numpy", "onnxruntime")
MODELS = ("e5", "minilm")
NUMBERS = ("_ms", "_mb")


def measure(model: str, engine: str, count: int) -> dict:
    """One process's numbers (run in the child)."""
    from benchmarks.latency import english_queries
    from vectorstore.embedders import make_embedder

    queries = english_queries()[: count + 2]
    embedder = make_embedder(model)
    embedder.embed_query("warm")  # the engine object made (its first query is the one below)
    encoder = embedder._queries if model == "minilm" else embedder._light_engine()  # noqa: SLF001
    kept = encoder._encoder  # noqa: SLF001
    kept._calls = 0  # noqa: SLF001
    if engine == "numpy":  # the fallback: what KeptEncoder builds when ONNX Runtime cannot
        import vectorstore.embedders.onnx_graph as graph

        def refused(*args: object, **kwargs: object) -> None:
            raise RuntimeError("measured without ONNX Runtime")

        graph.onnx_encoder = refused  # type: ignore[assignment]
    before = _rss_mb()
    times, second_ms = [], 0.0
    for i, query in enumerate(queries):
        if engine == "streamed":
            kept._calls = 0  # noqa: SLF001 (every query is a first one)
        started = time.perf_counter()
        embedder.embed_query(query)
        elapsed = 1000 * (time.perf_counter() - started)
        if i == 1:
            second_ms = elapsed  # the kept engine is built by this one
        elif i > 1:
            times.append(elapsed)
    times.sort()
    return {
        "model": model,
        "engine": kept.engine if engine != "streamed" else "streamed",
        "median_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
        "second_query_ms": second_ms,
        "memory_growth_mb": _rss_mb() - before,
    }


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "ENGINE"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "query_engines.json")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child, args.queries)))
        return
    rows: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.rounds):
        for model in MODELS:
            for engine in ENGINES:
                command = [sys.executable, "-m", "benchmarks.query_engines", "--child", model, engine]
                command += ["--queries", str(args.queries)]
                done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
                rows.setdefault((model, engine), []).append(json.loads(done.stdout.splitlines()[-1]))
    summary = [
        {
            "model": model,
            "engine": runs[0]["engine"],
            **{
                key: statistics.median(r[key] for r in runs)
                for key in runs[0]
                if key.endswith(("_ms", "_mb"))
            },
        }
        for (model, _), runs in rows.items()
    ]
    for row in summary:
        print(json.dumps(row))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine(), "rounds": args.rounds, "rows": summary}, indent=2))


if __name__ == "__main__":
    main()
