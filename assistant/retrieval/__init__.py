"""Retrieval: hybrid knowledge-base search and web results merged into one cited set of sources.

Names are loaded on first use (PEP 562) to keep start-up of the front-ends fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "KBRetriever": "kb_retriever",
    "RetrievalOptions": "ranking",
    "Retrieval": "retriever",
    "Retriever": "retriever",
    "Source": "sources",
    "assign_labels": "sources",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
