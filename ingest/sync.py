"""Sync a folder into a knowledge base: add new files, replace changed ones, remove deleted ones.

Unchanged files (same size and mtime, or else the same content hash) are skipped without reading
or re-embedding. Chunk ids are deterministic (path, content hash, position), so running the same
sync twice leaves the same base, and the write order in `vectorstore.kb` makes a sync killed at
any moment converge on the next run.

Reading and chunking run on a worker thread while the main thread embeds, so parsing hides
behind the embedder, which is the bottleneck on a CPU.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from vectorstore import FileRecord, KnowledgeBase, StoredChunk
from vectorstore.lexical import search_tokens

from .chunking import Chunk, Chunker
from .discovery import discover
from .formats import UnreadableFileError, parse

Status = Literal["added", "updated", "unchanged", "removed", "failed", "skipped"]


@dataclass(frozen=True)
class FileFailure:
    path: str
    error: str


@dataclass(frozen=True)
class FileWarning:
    path: str
    warning: str


@dataclass
class SyncSummary:
    files_seen: int = 0
    files_added: int = 0
    files_updated: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    files_skipped: int = 0
    files_failed: list[FileFailure] = field(default_factory=list)
    warnings: list[FileWarning] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


# --- events, for progress renderers (CLI, TUI) -----------------------------------------------
@dataclass(frozen=True)
class SyncStarted:
    root: str
    total_files: int


@dataclass(frozen=True)
class FileDone:
    path: str
    status: Status
    chunks: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChunksEmbedded:
    count: int


@dataclass(frozen=True)
class SyncFinished:
    summary: SyncSummary


SyncEvent = SyncStarted | FileDone | ChunksEmbedded | SyncFinished


@dataclass
class _Work:
    """One file's outcome from the reader thread."""

    path: str
    status: Status
    record: FileRecord | None = None
    chunks: list[StoredChunk] = field(default_factory=list)
    embed_texts: list[str] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


class _Reader:
    """Reads, hashes, parses and chunks files on a worker thread, in order."""

    def __init__(self, kb: KnowledgeBase, chunker: Chunker, manifest: dict[str, FileRecord]) -> None:
        self.kb, self.chunker, self.manifest = kb, chunker, manifest

    def read(self, path: Path, readable: bool) -> _Work:
        key = str(path)
        if not readable:
            return _Work(key, "skipped")
        try:
            stat = path.stat()
            old = self.manifest.get(key)
            if old and old.size == stat.st_size and old.mtime_ns == stat.st_mtime_ns:
                return _Work(key, "unchanged")
            data = path.read_bytes()
        except OSError as exc:
            return _Work(key, "failed", error=f"cannot read: {exc.strerror or exc}")
        digest = content_hash(data)
        if old and old.content_hash == digest:
            return _Work(
                key,
                "unchanged",
                record=FileRecord(
                    key, digest, stat.st_size, stat.st_mtime_ns, old.title, old.kind, old.chunk_ids
                ),
            )
        try:
            kind, doc = parse(path, data)
            chunks = self.chunker.chunk(doc, source=key, content_hash=digest, kind=kind)
        except UnreadableFileError as exc:
            return _Work(key, "failed", error=str(exc))
        except Exception as exc:  # a parser bug must not stop the batch
            return _Work(key, "failed", error=f"could not be read ({type(exc).__name__}: {exc})")
        if not chunks:
            return _Work(key, "failed", error="no text to index")
        record = FileRecord(
            key,
            digest,
            stat.st_size,
            stat.st_mtime_ns,
            doc.title,
            kind,
            tuple(c.id for c in chunks),
        )
        # Hashing and word segmentation happen here, off the embedding thread.
        return _Work(
            key,
            "updated" if old else "added",
            record,
            [_stored(c) for c in chunks],
            [c.embed_text for c in chunks],
            warnings=doc.warnings,
        )


def _stored(chunk: Chunk) -> StoredChunk:
    embed_hash = content_hash(chunk.embed_text.encode("utf-8"))
    tokens = search_tokens(StoredChunk(chunk.id, chunk.text, chunk.metadata))
    return StoredChunk(chunk.id, chunk.text, chunk.metadata, embed_hash, tokens)


def _background(items: Iterator, depth: int = 8) -> Iterator:
    """Run a generator on a worker thread, `depth` items ahead of the consumer."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def run() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # re-raised in the consumer
            q.put(exc)
        q.put(done)

    thread = threading.Thread(target=run, name="ingest-reader", daemon=True)
    thread.start()
    try:
        while (item := q.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


class _Writer:
    """Embeds chunks in batches and commits each file once all its vectors are stored.

    A chunk whose exact text is already embedded in the base (a moved, renamed or copied file)
    reuses that vector instead of being embedded again; duplicates within a batch are embedded once.
    """

    def __init__(self, kb: KnowledgeBase, summary: SyncSummary, emit, batch_size: int) -> None:
        self.kb, self.summary, self.emit, self.batch_size = kb, summary, emit, batch_size
        self.batch: list[tuple[StoredChunk, str]] = []
        self.pending: list[tuple[_Work, list]] = []  # files whose chunks are not all written yet

    def add(self, work: _Work) -> None:
        remaining = list(zip(work.chunks, work.embed_texts, strict=True))
        self.pending.append((work, remaining))
        while remaining:
            take = self.batch_size - len(self.batch)
            self.batch.extend(remaining[:take])
            del remaining[:take]
            if len(self.batch) >= self.batch_size:
                self.flush()

    def flush(self) -> None:
        if self.batch:
            chunks = [c for c, _ in self.batch]
            vectors = self.kb.known_vectors([c.embed_hash for c in chunks])
            missing = {c.embed_hash: text for c, text in self.batch if c.embed_hash not in vectors}
            if missing:
                embedded = self.kb.embedder.embed_documents(list(missing.values()))
                vectors.update(zip(missing, embedded, strict=True))
            self.kb.upsert_vectors(chunks, [vectors[c.embed_hash] for c in chunks])
            self.emit(ChunksEmbedded(len(chunks)))
            self.batch.clear()
        while self.pending and not self.pending[0][1]:
            self._commit(self.pending.pop(0)[0])

    def _commit(self, work: _Work) -> None:
        summary = self.summary
        summary.chunks_removed += self.kb.commit_file(work.record, work.chunks)
        summary.chunks_added += len(work.chunks)
        if work.status == "added":
            summary.files_added += 1
        else:
            summary.files_updated += 1
        summary.warnings.extend(FileWarning(work.path, w) for w in work.warnings)
        self.emit(FileDone(work.path, work.status, len(work.chunks), warnings=tuple(work.warnings)))


def sync(
    kb: KnowledgeBase,
    root: Path,
    *,
    chunker: Chunker | None = None,
    on_event: Callable[[SyncEvent], None] | None = None,
    batch_size: int | None = None,
) -> SyncSummary:
    """Make the part of `kb` that came from `root` match the files under `root` now."""
    emit = on_event or (lambda event: None)
    chunker = chunker or Chunker()
    batch_size = batch_size or max(16, kb.embedder.embed_batch_size())
    started = time.perf_counter()
    summary = SyncSummary()
    root = root.expanduser().resolve()
    if not root.exists():
        raise FileNotFoundError(f"{root} does not exist")

    kb.begin_write()
    try:
        found = list(discover(root, exclude=kb.home))
        summary.files_seen = len(found)
        emit(SyncStarted(str(root), len(found)))
        manifest = kb.index.files(under=str(root))

        writer = _Writer(kb, summary, emit, batch_size)
        reader = _Reader(kb, chunker, manifest)
        for work in _background(reader.read(f.path, f.readable) for f in found):
            if work.status in ("added", "updated"):
                writer.add(work)
                continue
            if work.status == "unchanged":
                summary.files_unchanged += 1
                if work.record is not None:
                    kb.index.touch(work.path, work.record.mtime_ns)
            elif work.status == "skipped":
                summary.files_skipped += 1
            elif work.status == "failed":
                work.error = work.error or "unknown error"
                if work.path in manifest:
                    # The base mirrors what can be read now: stale chunks would be cited as if
                    # they were still in the file.
                    summary.chunks_removed += kb.remove_file(work.path)
                    work.error += "; its previously indexed chunks were removed"
                    manifest.pop(work.path)
                summary.files_failed.append(FileFailure(work.path, work.error))
            emit(FileDone(work.path, work.status, error=work.error))
        writer.flush()

        # Removals come last so that a moved file's chunks can reuse the vectors of its old copy.
        present = {str(f.path) for f in found if f.readable}
        for path in sorted(set(manifest) - present):
            summary.chunks_removed += kb.remove_file(path)
            summary.files_removed += 1
            emit(FileDone(path, "removed"))
    finally:
        kb.end_write()
    summary.seconds = round(time.perf_counter() - started, 3)
    emit(SyncFinished(summary))
    return summary
