"""Read a folder of documents into a knowledge base, and keep the base in sync with it."""

from .chunking import Chunk, Chunker, weighted_len
from .limits import ReadLimits
from .sync import (
    ChunksEmbedded,
    EmbeddingStarted,
    FileDone,
    FileFailure,
    FileSkip,
    SyncEvent,
    SyncFinished,
    SyncStarted,
    SyncSummary,
    embed_pending,
    sync,
)

__all__ = [
    "Chunk",
    "Chunker",
    "ChunksEmbedded",
    "EmbeddingStarted",
    "FileDone",
    "FileFailure",
    "FileSkip",
    "ReadLimits",
    "SyncEvent",
    "SyncFinished",
    "SyncStarted",
    "SyncSummary",
    "embed_pending",
    "sync",
    "weighted_len",
]
