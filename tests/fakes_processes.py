"""Real server processes on loopback for the tests that need the real thing (a `chroma run`,
llama.cpp's server): started, waited for with a bound, and stopped when the block ends."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest


@contextmanager
def served_process(
    command: list[str], ready_url: str, *, timeout: float, name: str, log=subprocess.DEVNULL
) -> Iterator[subprocess.Popen]:
    """Run a real server process until `ready_url` answers 200 (bounded by `timeout`), then stop
    it when the block ends; fail the test, naming the server, if it exits or never answers."""
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}")
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer {ready_url} within {timeout:.0f} s")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
