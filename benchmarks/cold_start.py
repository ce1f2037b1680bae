"""Cold start of the `assistant` command: every command in a new process, on the 100,000-chunk base
of benchmarks/latency.py (the default indexes: e5, and the English index for English queries),
against `python -c "import torch, chromadb"` measured in the same run, the runs interleaved.

    python -m benchmarks.cold_start [--runs 5]

Per command: the median wall time of `--runs` new processes, after one unmeasured run of each
(it warms the page cache and writes the per-machine caches under the home folder, as any first
use does), its CPU time (user + system, which a busy machine inflates less than wall time), and
the peak resident memory of the process with its children (wait4's ru_maxrss).
`ask` runs against a scripted Ollama (benchmarks/servers.py) on 127.0.0.1: the time until its first
line is printed, until its sources are, and until it ends. Targets (issue 19, on an idle
machine): `search` at most 1.5 s and at most twice the import baseline, at most 600 MB; `kb list`
and `kb stats` at most 0.5 s; `ask`'s first line within 0.5 s. The load average is recorded:
on a busy machine compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import REPO, machine
from benchmarks.latency import EMBEDDER, WORK, build

ZH_QUERY = "个人信息处理者的义务有哪些？"
EN_QUERY = "When was IBM founded?"
MODEL = "deepseek-r1:7b"
BASELINE = "import torch, chromadb"


def assistant() -> list[str]:
    """The installed console script (what a user runs), else the module."""
    script = shutil.which("assistant", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-c", "from tui.cli import main; main()"]


def commands(ask_query: str) -> dict[str, list[str]]:
    cli = assistant()
    return {
        "import torch, chromadb": [sys.executable, "-c", BASELINE],
        "search zh": [*cli, "search", ZH_QUERY, "--kb", "bench"],
        "search en": [*cli, "search", EN_QUERY, "--kb", "bench"],
        "kb list": [*cli, "kb", "list"],
        "kb stats": [*cli, "kb", "stats", "--kb", "bench"],
        "ask": [*cli, "ask", ask_query, "--kb", "bench", "--model", MODEL],
    }


def run(command: list[str], env: dict[str, str], marks: tuple[str, ...] = ()) -> dict:
    """Run `command` to its end: seconds to the end, to the first line printed (either stream)
    and to the first line containing each of `marks`; peak RSS (MB) of it and its children."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    seen: dict[str, float] = {}
    output = {"out": b"", "err": b""}
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, "out")
    selector.register(process.stderr, selectors.EVENT_READ, "err")
    open_streams = 2
    while open_streams:
        for key, _ in selector.select(timeout=120):
            chunk = os.read(key.fileobj.fileno(), 65536)
            if not chunk:
                selector.unregister(key.fileobj)
                open_streams -= 1
                continue
            now = time.perf_counter() - started
            output[key.data] += chunk
            text = (output["out"] + output["err"]).decode("utf-8", "replace")
            if "\n" in text:
                seen.setdefault("first_line", now)
            for mark in marks:
                if mark in text:
                    seen.setdefault(mark, now)
    _, status, usage = os.wait4(process.pid, 0)
    ended = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[-3:]} failed: {output['err'].decode('utf-8', 'replace')[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"seconds": ended, "cpu_seconds": cpu, "max_rss_mb": usage.ru_maxrss / 1024, **seen}


def measure(runs: int, home: Path, ollama_url: str) -> dict[str, list[dict]]:
    env = {**os.environ, "ASSISTANT_HOME": str(home), "OLLAMA_HOST": ollama_url, "COLUMNS": "120"}
    env.pop("ASSISTANT_CHROMA_URL", None)
    table = commands("个人信息处理者应当履行哪些义务？")
    marks = {"ask": ("[K1]", "tokens/s")}
    for name, command in table.items():  # warm the page cache and the caches a first use writes
        run(command, env, marks.get(name, ()))
    results: dict[str, list[dict]] = {name: [] for name in table}
    for _ in range(runs):
        for name, command in table.items():  # interleaved: a load spike hits every command alike
            results[name].append(run(command, env, marks.get(name, ())))
    return results


def summary(results: dict[str, list[dict]]) -> dict[str, dict]:
    baseline = statistics.median(r["seconds"] for r in results[BASELINE])
    out = {}
    for name, rows in results.items():
        seconds = statistics.median(r["seconds"] for r in rows)
        row = {
            "median_s": round(seconds, 3),
            "min_s": round(min(r["seconds"] for r in rows), 3),
            "cpu_s": round(statistics.median(r["cpu_seconds"] for r in rows), 3),
            "max_rss_mb": round(max(r["max_rss_mb"] for r in rows)),
            "vs_import": round(seconds / baseline, 2),
        }
        if name == "ask":
            for key, label in (("first_line", "first_line_s"), ("[K1]", "sources_s")):
                row[label] = round(statistics.median(r[key] for r in rows), 3)
        out[name] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "cold_start.json")
    args = parser.parse_args()
    from benchmarks.servers import ScriptedOllama

    home = build(100_000)
    load_before = os.getloadavg()
    answer = "个人信息处理者应当履行保护义务 [K1]。"
    with ScriptedOllama(MODEL, reasoning="先看来源。" * 5, answer=answer) as server:
        results = measure(args.runs, home, server.url)
    report = {
        "machine": machine(),
        "embedder": EMBEDDER,
        "base": str(home.relative_to(WORK.parent.parent)),
        "runs": args.runs,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "commands": summary(results),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
