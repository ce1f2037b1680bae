"""The project as a user gets it: a wheel, installed into a fresh environment with only its runtime
dependencies, run from outside the source tree. A module left out of the wheel, missing package
data or an import that pyproject.toml does not declare fails here, not on a user's machine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT.parent / "shared" / "data" / "docs"


def _run(command: list, *, cwd: Path, env: dict | None = None, timeout: float = 900) -> str:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    shown = " ".join(map(str, command))
    assert done.returncode in (0, 3), (
        f"{shown} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


@pytest.mark.slow
def test_wheel_in_a_fresh_environment(tmp_path: Path) -> None:
    import torch

    # Built from a copy of the source, so the build leaves nothing (build/, *.egg-info) in the tree.
    source = tmp_path / "source"
    skip = shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__", "venv", "tests")
    shutil.copytree(ROOT, source, ignore=skip)
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, source], cwd=tmp_path)
    (wheel,) = wheels.glob("r1_assistant-*.whl")

    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    # The same torch build as this environment's (the CPU one here), then the wheel and only its
    # runtime dependencies: no dev extra, nothing from this environment.
    _run([python, "-m", "pip", "install", "-q", f"torch=={torch.__version__}"], cwd=tmp_path)
    _run([python, "-m", "pip", "install", "-q", wheel], cwd=tmp_path)

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        ASSISTANT_HOME=str(tmp_path / "home"),
        OLLAMA_HOST="http://127.0.0.1:9",  # nothing listens: nothing here may need a model server
    )
    # cwd is outside the source tree, so only the installed wheel can be imported.
    assert "ingest" in _run(["assistant", "--help"], cwd=tmp_path, env=env)
    located = _run(
        [python, "-c", "import tui.app, assistant, ingest, vectorstore; print(tui.app.__file__)"],
        cwd=tmp_path,
        env=env,
    )
    assert str(env_dir) in located, located

    summary = json.loads(_run(["assistant", "ingest", DOCS, "--kb", "docs", "--json"], cwd=tmp_path, env=env))
    pdfs = sorted(p.name for p in DOCS.rglob("*.pdf"))
    failed = {Path(f["path"]).name: f["error"] for f in summary["files_failed"]}
    assert not [p for p in pdfs if p in failed], failed
    assert summary["files_added"] >= len(pdfs) and summary["chunks_added"] > 0

    stats = json.loads(_run(["assistant", "kb", "stats", "--kb", "docs", "--json"], cwd=tmp_path, env=env))
    assert stats["documents"] == summary["files_added"]
    hits = _run(["assistant", "search", "AutoGen", "--kb", "docs", "--json"], cwd=tmp_path, env=env)
    assert "autogen" in hits.lower()

    # OCR works from the wheel's dependencies alone: its models ship inside them.
    scans = ROOT.parent / "shared" / "data" / "scanned"
    summary = json.loads(
        _run(["assistant", "ingest", scans / "c02-22.pdf", "--kb", "scans", "--json"], cwd=tmp_path, env=env)
    )
    assert summary["files_added"] == 1, summary
    hits = _run(
        ["assistant", "search", "tip-toeing along a path", "--kb", "scans", "--json"], cwd=tmp_path, env=env
    )
    assert "c02-22.pdf" in hits and "p. 1" in hits
