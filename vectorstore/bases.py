"""The bases a home folder (or a Chroma server) holds, known without opening one for search:
their names, their statistics, removing one, its writer. For bases in the home folder none of
this imports Chroma or a model, so `assistant kb list` and `kb stats` answer at once; a shared
base is asked through its server.

Their statistics are read by vectorstore.stats (which opens a shared base as a KnowledgeBase,
so it stands above kb.py, which stands on this module).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import KnowledgeBaseError
from .storage import WriteGuard, store_for

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def validate_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise KnowledgeBaseError(
            f"'{name}' is not a valid knowledge-base name: use letters, digits, '-' and '_' "
            "(up to 63 characters, starting with a letter or digit)"
        )
    return name


@dataclass(frozen=True)
class KBStats:
    name: str
    documents: int
    chunks: int
    embedder: str
    bytes: int
    location: str
    #: Chunks whose vectors are stored; the rest are found lexically until they are embedded.
    embedded_chunks: int = 0
    #: How many entries of a shared base's record failed validation and were skipped.
    skipped_entries: int = 0
    #: Some of them, as (file or entry, why).
    problems: tuple[tuple[str, str], ...] = ()
    #: Pages (and images) whose text was read by OCR.
    ocr_pages: int = 0


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under `folder` (what the base takes on disk here)."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def list_kbs(home: Path, chroma_url: str | None = None) -> list[str]:
    """The bases in use: those on the Chroma server at `chroma_url`, or those in `home`."""
    return store_for(home, chroma_url).names()


def remove_kb(home: Path, name: str, chroma_url: str | None = None) -> None:
    """Delete base `name`: from the server (for every machine) when `chroma_url` is given."""
    store_for(home, chroma_url).remove(validate_name(name))


def kb_writer(home: Path, name: str, chroma_url: str | None = None) -> WriteGuard | None:
    """Who is writing base `name` now (None: nobody)."""
    return store_for(home, chroma_url).writer(validate_name(name))


def unlock_kb(home: Path, name: str, guard: WriteGuard, chroma_url: str | None = None) -> None:
    """Break the write guard `guard` of base `name` (as `kb_writer` returned it), for a writer
    that is gone; a writer still running stops at its next write."""
    store_for(home, chroma_url).unlock(validate_name(name), guard)
