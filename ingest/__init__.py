"""Read a folder of documents into a knowledge base, and keep the base in sync with it."""

from .chunking import Chunk, Chunker, weighted_len
from .limits import ReadLimits
from .sync import (
    ChunksEmbedded,
    FileDone,
    FileFailure,
    FileSkip,
    SyncEvent,
    SyncFinished,
    SyncStarted,
    SyncSummary,
    sync,
)

__all__ = [
    "Chunk",
    "Chunker",
    "ChunksEmbedded",
    "FileDone",
    "FileFailure",
    "FileSkip",
    "ReadLimits",
    "SyncEvent",
    "SyncFinished",
    "SyncStarted",
    "SyncSummary",
    "sync",
    "weighted_len",
]
