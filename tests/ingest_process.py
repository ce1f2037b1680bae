"""`assistant ingest` in a subprocess that a test can watch and kill -9."""

from __future__ import annotations

import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from corpus import write_files


def assistant_command() -> list[str]:
    script = shutil.which("assistant")
    return [script] if script else [sys.executable, "-c", "from assistant.cli import main; main()"]


class IngestProcess:
    """`assistant ingest FOLDER` in a subprocess, its stderr lines collected as they come."""

    def __init__(
        self,
        home: Path,
        folder: Path,
        *,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        env = {**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_EMBEDDER": "minilm", **(env or {})}
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [*(command or assistant_command()), "ingest", str(folder), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, condition: Callable[[list[str]], bool], timeout: float = 120) -> bool:
        """Read lines until `condition(lines so far)` holds (True) or the output ends (False)."""
        deadline = time.monotonic() + timeout
        while not condition(self.seen):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                pytest.fail(f"ingest made no progress within {timeout} s; output: {self.seen[-5:]}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                return False
            self.seen.append(line)
        return True

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def finish(self, timeout: float = 180) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"ingest did not finish within {timeout} s")


def added(lines: list[str]) -> int:
    return sum(line.startswith("added ") for line in lines)


WORDS = (
    "alpha beta gamma delta river mountain engine vector index chunk model search paper table "
    "duck lake swim garden storm harbor lantern meadow copper violin"
).split()


def generated_folder(root: Path, files: int = 40) -> Path:
    """`files` text files of two or three chunks each, different words in each."""
    rnd = random.Random(7)
    contents = {}
    for i in range(files):
        paragraphs = []
        for p in range(4):
            sentences = [
                " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 16))).capitalize() + "."
                for _ in range(5)
            ]
            paragraphs.append(f"Document {i} paragraph {p}. " + " ".join(sentences))
        contents[f"doc{i:02d}.txt"] = "\n\n".join(paragraphs) + "\n"
    return write_files(root, contents)
