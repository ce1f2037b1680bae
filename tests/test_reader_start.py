"""Reader processes start the same whether or not a terminal app owns the process (issue 18,
item 1): with a stand-in `sys.stderr` that has no file descriptor (Textual's returns -1), from a
working directory that holds a package named `ingest`, and what they print goes to the file the
front-end names, never over its screen."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import io, json, os, sys
    from pathlib import Path

    class StandIn(io.TextIOBase):  # what Textual puts in sys.stderr while it runs
        def fileno(self):
            return -1
        def write(self, text):
            return len(text)

    from ingest import Chunker, ReadLimits
    from ingest.formats import parse
    from ingest.reading import ReadJob
    from ingest.workers import ReaderPool, send_reader_output, start_readers

    real = sys.stdout
    sys.stderr = sys.stdout = StandIn()
    send_reader_output(Path(sys.argv[2]))
    start_readers()
    path = Path(sys.argv[1])
    job = ReadJob(str(path), path, path.stat().st_size, path.stat().st_mtime_ns)
    with ReaderPool(Chunker(), ReadLimits(), parse, workers=1) as pool:
        works = list(pool.read([job]))
    real.write(json.dumps([[w.status, w.error] for w in works]))
    """
)


def test_readers_start_under_a_stand_in_stderr_and_ignore_the_working_directory(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "ingest").mkdir(parents=True)
    (work / "ingest" / "__init__.py").write_text("raise ImportError('a user folder, not the readers')\n")
    note = tmp_path / "note.md"
    note.write_text("# 登高\n\n风急天高猿啸哀。\n", encoding="utf-8")
    log = tmp_path / "readers.log"
    # -P: this test's own process imports the installed package; the readers must manage alone.
    done = subprocess.run(
        [sys.executable, "-P", "-c", SCRIPT, str(note), str(log)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [["added", None]]
