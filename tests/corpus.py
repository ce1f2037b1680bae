"""Test inputs: where the shared data lives, and small folders of files written on the fly."""

from __future__ import annotations

import shutil
from pathlib import Path

#: ../shared/data relative to the repository root (CI has it at the same place).
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DOCS = DATA / "docs"
BAD = DATA / "bad"


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create `files` (relative path -> content) under `root`; returns `root`."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def copy_files(src: Path, dst: Path) -> Path:
    """Copy the files under `src` to `dst` (the shared data is read-only; copies must not be)."""
    for path in src.rglob("*"):
        if path.is_file():
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return dst


def english(topic: str, sentences: int = 12) -> str:
    """A few paragraphs of distinct English prose about `topic`."""
    body = [
        f"{topic.capitalize()} sentence {i} talks about {topic} and the {topic} habits of number {i}."
        for i in range(sentences)
    ]
    paragraphs = [" ".join(body[i : i + 4]) for i in range(0, len(body), 4)]
    return f"# Notes on {topic}\n\n" + "\n\n".join(paragraphs) + "\n"
