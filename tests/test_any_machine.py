"""What the machine may vary does not break the assistant: a temporary folder too long to hold a
socket, a terminal narrower than a path. (CI runs the whole suite again in such an environment:
.ci/varied.)"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from assistant.chat.events import Final
from assistant.cli.views.answer import AnswerView
from assistant.retrieval import Source

from corpus import english, write_files


def test_an_ingest_runs_with_a_temporary_folder_too_long_for_a_socket(tmp_path: Path, home: Path) -> None:
    # The readers' server listens on a socket that multiprocessing makes under TMPDIR; a socket's
    # path may not exceed 107 bytes.
    long_tmp = tmp_path / "a temporary folder with a name this long" / "and another, 还有中文" / ("x" * 40)
    long_tmp.mkdir(parents=True)
    assert len(os.fsencode(long_tmp)) > 108
    folder = write_files(tmp_path / "notes", {"owls.md": english("owls")})
    env = {**os.environ, "TMPDIR": str(long_tmp), "ASSISTANT_HOME": str(home), "ASSISTANT_EMBEDDER": "minilm"}
    command = [sys.executable, "-c", "from assistant.cli import main; main()", "ingest", str(folder)]

    result = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["files_added"] == 1


def test_each_source_of_an_answer_stays_on_one_line_in_a_narrow_terminal() -> None:
    long_path = "/home/someone with a long name/文档/" + "/".join(["a folder"] * 12) + "/owls.md"
    sources = [
        Source("kb", "Notes on owls", f"{long_path} › Notes on owls", "Owls hunt.", 0.9, "c1", label="K1"),
        Source("web", "Owl facts", "https://example.org/" + "owls/" * 30, "Owls.", 0.5, "c2", label="W1"),
    ]
    out = Console(file=io.StringIO(), width=40, color_system=None)
    view = AnswerView(out, Console(file=io.StringIO(), width=40, color_system=None))

    view(Final("deepseek-r1:7b", web=True, outcome="answered", answer="Owls hunt [K1].", sources=sources))

    listed = out.file.getvalue().split("Sources\n", 1)[1].splitlines()
    assert listed[:2] == [
        f"  [K1] {sources[0].citation}  Notes on owls",
        f"  [W1] {sources[1].citation}  Owl facts",
    ]
