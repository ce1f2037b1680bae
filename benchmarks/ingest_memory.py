"""Peak memory of `assistant ingest` with a file at the size limit and files far over it (Linux).

Two folders are ingested, each by a fresh `assistant ingest` process:
- `small`: a few small text documents;
- `hostile`: the same documents plus a PDF exactly at the size limit (one page of text and a
  large unused stream), a sparse 4 GB log far over it, and a zip bomb named .docx.
The peak resident memory (VmHWM) of the ingest process and of its reader processes is sampled
from /proc while each runs. The ingest process's peak should not grow with the hostile folder:
readers, not the ingest, hold a file's bytes, and files over the limit are never opened.

    python -m benchmarks.ingest_memory                  # the default 100 MB limit
    python -m benchmarks.ingest_memory --limit-mb 20 --embedder minilm
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from benchmarks.common import machine

WORK = Path(__file__).resolve().parent / ".work" / "ingest-memory"
MB = 1024 * 1024


def pdf_at(size: int, text: str) -> bytes:
    """A valid one-page PDF showing `text`, padded to exactly `size` bytes by an unused stream."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]

    def build(padding: int) -> bytes:
        body = [*objects, b"<< /Length %d >>\nstream\n" % padding + bytes(padding) + b"\nendstream"]
        out = bytearray(b"%PDF-1.4\n")
        offsets = []
        for number, obj in enumerate(body, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(body) + 1)
        out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(body) + 1, xref)
        return bytes(out)

    first = build(0)
    padding = size - len(first)
    # The stream length's digits change the total; settle it in two passes.
    padding -= len(build(padding)) - size
    data = build(padding)
    assert len(data) == size, (len(data), size)
    return data


def zip_bomb(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/document.xml", "w", force_zip64=True) as out:
            for _ in range(size // MB):
                out.write(bytes(MB))
    return buffer.getvalue()


def make_folders(limit_mb: int) -> tuple[Path, Path]:
    shutil.rmtree(WORK, ignore_errors=True)
    small, hostile = WORK / "small", WORK / "hostile"
    for folder in (small, hostile):
        folder.mkdir(parents=True)
        for topic in ("ducks", "owls", "harbors", "lanterns"):
            lines = [f"{topic.capitalize()} note {i}: about {topic} and their habits." for i in range(40)]
            (folder / f"{topic}.md").write_text("\n\n".join(lines), encoding="utf-8")
    (hostile / "at-limit.pdf").write_bytes(pdf_at(limit_mb * MB, "Ducks at the size limit"))
    with open(hostile / "huge.log", "wb") as f:
        f.truncate(4096 * MB)  # sparse: no disk used
    (hostile / "bomb.docx").write_bytes(zip_bomb(2048 * MB))
    return small, hostile


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def ingest(folder: Path, home: Path, env: dict[str, str]) -> dict:
    """Run `assistant ingest FOLDER --json`; its peak RSS and its readers' largest peak RSS."""
    cli = "from assistant.cli import main; main()"
    command = [sys.executable, "-c", cli, "ingest", str(folder), "--json"]
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, env={**env, "ASSISTANT_HOME": str(home)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    main_peak, reader_peak = 0.0, 0.0
    while proc.poll() is None:
        main_peak = max(main_peak, _hwm_mb(proc.pid) or 0)
        tree, stack, seen = _children(), [proc.pid], set()
        while stack:
            for child in tree.get(stack.pop(), []):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
                    reader_peak = max(reader_peak, _hwm_mb(child) or 0)
        time.sleep(0.05)
    stdout, stderr = proc.communicate()
    if proc.returncode not in (0, 3):
        raise SystemExit(f"ingest failed ({proc.returncode}): {stderr.decode()[-2000:]}")
    summary = json.loads(stdout)
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "ingest_peak_rss_mb": round(main_peak, 1),
        "reader_peak_rss_mb": round(reader_peak, 1),
        "files_added": summary["files_added"],
        "files_failed": [(Path(f["path"]).name, f["error"]) for f in summary["files_failed"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit-mb", type=int, default=100, help="ASSISTANT_MAX_FILE_MB for both runs")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    small, hostile = make_folders(args.limit_mb)
    env = {
        **os.environ,
        "ASSISTANT_EMBEDDER": args.embedder,
        "ASSISTANT_MAX_FILE_MB": str(args.limit_mb),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    results = {"machine": machine(), "limit_mb": args.limit_mb, "embedder": args.embedder}
    for name, folder in (("small", small), ("hostile", hostile)):
        results[name] = ingest(folder, WORK / f"home-{name}", env)
        print(name, json.dumps(results[name]), flush=True)
    results["ingest_peak_ratio"] = round(
        results["hostile"]["ingest_peak_rss_mb"] / results["small"]["ingest_peak_rss_mb"], 3
    )
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
