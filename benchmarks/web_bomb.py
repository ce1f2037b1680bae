"""Memory of fetching a compression bomb: the page fetcher against plain httpx decoding.

A loopback server sends a gzip page that expands to --expanded MiB (~1000:1). Each fetcher runs
in its own process with the page cap of the web step (2 MB) and reports how much its peak
resident memory grew (ru_maxrss after the fetch minus before) and the time taken:

- `fetcher`: assistant.web.fetch (bounded decoding, 64 KB steps);
- `httpx`: what the fetcher did before: httpx's own decoding, `aiter_bytes`, the same 2 MB cap.

    python -m benchmarks.web_bomb [--expanded 512]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from benchmarks.common import machine

REPO = Path(__file__).resolve().parents[1]
CAP = 2_000_000

CHILD = r"""
import asyncio, json, resource, sys, time
import httpx
from assistant.web import AddressPolicy
from assistant.web.fetch import fetch, page_client

mode, url, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def old() -> int:
    async with httpx.AsyncClient(timeout=60) as client:
        async with client.stream("GET", url) as response:
            body = bytearray()
            async for piece in response.aiter_bytes():
                body.extend(piece)
                if len(body) > cap:
                    del body[cap:]
                    break
            return len(body)


async def new() -> int:
    policy = AddressPolicy(allow_private=True)
    async with page_client(policy, timeout=60) as client:
        page = await fetch(client, url, max_bytes=cap)
        return len(page.text)


started = time.perf_counter()
size = asyncio.run(new() if mode == "fetcher" else old())
seconds = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"mode": mode, "kept_bytes": size, "peak_growth_mib": (after - before) / 1024,
                  "seconds": seconds}))
"""


def bomb(expanded_mib: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    parts = [compressor.compress(b"<html><body><p>")]
    parts += [compressor.compress(block) for _ in range(expanded_mib)]
    return b"".join(parts) + compressor.flush()


def serve(body: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expanded", type=int, default=512, help="MiB the page expands to")
    args = parser.parse_args()
    body = bomb(args.expanded)
    server = serve(body)
    url = f"http://127.0.0.1:{server.server_address[1]}/bomb"
    rows = []
    try:
        for mode in ("fetcher", "httpx"):
            done = subprocess.run(
                [sys.executable, "-c", CHILD, mode, url, str(CAP)],
                capture_output=True,
                text=True,
                check=True,
                cwd=REPO,
                env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
            )
            rows.append(json.loads(done.stdout))
    finally:
        server.shutdown()
    result = {
        "machine": machine(),
        "compressed_bytes": len(body),
        "expanded_mib": args.expanded,
        "cap_bytes": CAP,
        "runs": rows,
    }
    out = REPO / "benchmarks" / "results" / "web_bomb.json"
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(
        f"gzip page: {len(body) / 1024:.0f} KiB on the wire, {args.expanded} MiB expanded, "
        f"cap {CAP / 1e6:g} MB"
    )
    for row in rows:
        print(
            f"{row['mode']:>8}: peak memory +{row['peak_growth_mib']:.1f} MiB, "
            f"kept {row['kept_bytes']} bytes, {row['seconds']:.2f} s"
        )


if __name__ == "__main__":
    main()
