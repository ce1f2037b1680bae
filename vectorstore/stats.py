"""A base's statistics, read without opening it for search where that is possible.

A base on this machine keeps everything its statistics need in its SQLite file (documents,
chunks, how many are embedded, the embedder's id, pages read by OCR), so `read_stats` reads that
file and the folder's size: no Chroma, no model. A shared base is asked through its server.
"""

from __future__ import annotations

from pathlib import Path

from .bases import KBStats, folder_bytes, validate_name


def read_stats(
    home: Path, name: str, chroma_url: str | None = None, *, embedder: str | None = None
) -> KBStats:
    """The statistics of base `name`: from its SQLite file alone for a base in `home`, else
    through the server at `chroma_url` (`embedder`: the one the user chose, if any)."""
    if chroma_url:
        from .kb import KnowledgeBase

        with KnowledgeBase.open(home, name, embedder=embedder, chroma_url=chroma_url, create=False) as kb:
            return kb.stats()
    from .storage.local import LocalStore

    index, folder = LocalStore(home).open_index(validate_name(name))
    try:
        documents, chunks = index.counts()
        return KBStats(
            name=name,
            documents=documents,
            chunks=chunks,
            embedder=index.get_meta("embedder") or "",
            bytes=folder_bytes(folder),
            location=str(folder),
            embedded_chunks=index.embedded_count(),
            ocr_pages=index.ocr_pages(),
        )
    finally:
        index.close()
