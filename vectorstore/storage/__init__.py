"""Where a knowledge base's manifest, write guard and record live: one protocol, two implementations.

A `Store` is where bases live, chosen once from the settings (`store_for`):

- `LocalStore` (storage.local): bases in the home folder, `kbs/NAME/`: the SQLite manifest and
  lexical index, embedded Chroma beside it, and a file lock held by the one writer;
- `SharedStore` (storage.shared): bases kept whole on a Chroma server: the server's record is
  the manifest, a lease on the server is the write guard, and this machine keeps a SQLite cache of
  the record for the lexical index.

Opening a base gives a `BaseStorage`, which `vectorstore.kb.KnowledgeBase` delegates to without
knowing which one it has: the vectors are the knowledge base's own business, everything about
where the manifest lives, who may write and how writes are recorded is the storage's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .protocol import BaseStorage, Confirm, Store, WriteGuard

__all__ = ["BaseStorage", "Confirm", "Store", "WriteGuard", "store_for"]


def store_for(home: Path, chroma_url: str | None, **options: Any) -> Store:
    """The bases on the Chroma server at `chroma_url`, or (None) those in `home`."""
    if chroma_url:
        from .shared import SharedStore

        return SharedStore(home, chroma_url, **options)
    from .local import LocalStore

    return LocalStore(home)
