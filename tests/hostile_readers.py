"""A parser for reader processes that misbehaves on cue: a file's first bytes say how.

Used through `sync(..., parser=hostile_readers.parse)`; it is pickled by name, so it lives in a
module of its own. Real formats go to ingest.formats.parse.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from ingest.formats import ParsedDocument
from ingest.formats import parse as real_parse

MB = 1024 * 1024


def _recurse(depth: int) -> int:
    return _recurse(depth + 1) + 1


def parse(path: Path, data: bytes) -> tuple[str, ParsedDocument]:
    if data.startswith(b"SEGV"):
        os.kill(os.getpid(), signal.SIGSEGV)
    if data.startswith(b"EXIT"):
        os._exit(3)
    if data.startswith(b"HANG"):
        while True:
            time.sleep(0.05)
    if data.startswith(b"BLOAT"):
        # Calloc'd blocks: the address-space limit stops this before real memory is touched.
        hoard = [bytes(64 * MB) for _ in range(1024)]
        raise AssertionError(f"allocated {len(hoard) * 64} MB without hitting the limit")
    if data.startswith(b"RECURSE"):
        _recurse(0)
    return real_parse(path, data)
