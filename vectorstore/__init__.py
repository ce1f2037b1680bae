"""The knowledge base: embedded Chroma or a Chroma server, with a lexical index beside it."""

from .kb import (
    DenseHit,
    EmbedderMismatchError,
    KBStats,
    KnowledgeBase,
    KnowledgeBaseBusyError,
    KnowledgeBaseError,
    list_kbs,
    remove_kb,
)
from .lexical import FileRecord, LexicalHit, StoredChunk

__all__ = [
    "DenseHit",
    "EmbedderMismatchError",
    "FileRecord",
    "KBStats",
    "KnowledgeBase",
    "KnowledgeBaseBusyError",
    "KnowledgeBaseError",
    "LexicalHit",
    "StoredChunk",
    "list_kbs",
    "remove_kb",
]
