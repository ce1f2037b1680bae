"""The knowledge base: embedded Chroma or a Chroma server, with a lexical index beside it.

Names are loaded on first use (PEP 562), so `import vectorstore.text` does not pull in Chroma:
the chat app must open in under a second.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DenseHit": "kb",
    "EmbedderMismatchError": "errors",
    "KBStats": "bases",
    "KnowledgeBase": "kb",
    "KnowledgeBaseBusyError": "errors",
    "KnowledgeBaseError": "errors",
    "kb_writer": "bases",
    "list_kbs": "bases",
    "read_stats": "stats",
    "remove_kb": "bases",
    "unlock_kb": "bases",
    "NoSuchKnowledgeBaseError": "errors",
    "SharedBaseError": "errors",
    "SourceInUseError": "errors",
    "FileRecord": "lexical",
    "LexicalHit": "lexical",
    "StoredChunk": "lexical",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
