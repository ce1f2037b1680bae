"""A knowledge base of ../shared/data/docs on the default embedder, built once per test run (it
takes a minute or more) and copied into each test's own home."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.session import Session
from assistant.settings import Settings

from corpus import DOCS


def built_docs_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The home of a base named `default` holding ../shared/data/docs; built on first call."""
    root = tmp_path_factory.getbasetemp() / "docs-base"
    if not (root / "built").exists():
        shutil.rmtree(root, ignore_errors=True)
        session = Session(Settings(home=root / "home"))
        try:
            summary = session.ingest(DOCS, "default")
        finally:
            session.close()
        assert not summary.files_failed, summary.files_failed
        (root / "built").touch()
    return root / "home"


def copy_docs_home(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Path:
    """A fresh copy of the docs base at `home` (a test's own ASSISTANT_HOME)."""
    shutil.copytree(built_docs_home(tmp_path_factory), home, dirs_exist_ok=True)
    return home
