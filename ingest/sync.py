"""Sync a folder into a knowledge base: add new files, replace changed ones, remove deleted ones.

Unchanged files (same size and mtime, or else the same content hash) are skipped without reading
or re-embedding. A sync runs in two phases: every changed file is read, chunked and committed to
the lexical index first, so the base answers searches (lexically) as soon as that is done; then
the chunks are embedded, in batches that are each recorded as done (`embed_pending`), so an
interrupted sync (Ctrl+C, kill -9) leaves a searchable base and the next sync carries on.

`sync` runs four steps: plan (list the folder and settle what the listing alone decides), read
(changed files in reader processes, each committed as it arrives), remove (files gone from the
folder), embed (`embed_pending`); the first three are `_SyncRun`'s methods.

Chunk ids are deterministic (path, content hash, position), so running the same
sync twice leaves the same base, and the write order in `vectorstore.kb` makes a sync killed at
any moment converge on the next run.

Only regular files within the size limit are opened, and never by this process: reader
processes (ingest.workers) read, parse and chunk them under time and memory limits, so a hostile
or broken file costs that file alone.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .chunking import Chunker, with_context
from .discovery import Found, discover, path_key
from .failures import STILL_FAILING, FailureMemory, readers_version
from .formats import parse
from .limits import ReadLimits
from .reading import Parser, ReadJob, Status, Work
from .secret_rules import SecretRules
from .workers import ReaderPool

if TYPE_CHECKING:  # the knowledge base (and Chroma) stays out of the reader processes
    from vectorstore import FileRecord, KnowledgeBase, StoredChunk


@dataclass(frozen=True)
class FileFailure:
    path: str
    error: str


@dataclass(frozen=True)
class FileSkip:
    path: str
    reason: str


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
    #: Files not read: media types (counted only) and the files listed below.
    files_skipped: int = 0
    files_failed: list[FileFailure] = field(default_factory=list)
    #: Files that failed in an earlier ingest and have not changed since (nor have the readers
    #: or the limits): reported with that error, not read again (ingest.failures).
    files_still_failing: list[FileFailure] = field(default_factory=list)
    #: Pipes, devices, sockets, link loops, links out of the folder, system files and secrets,
    #: with the reason each was not read (or not indexed).
    files_skipped_list: list[FileSkip] = field(default_factory=list)
    warnings: list[FileWarning] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    #: Chunks embedded by this sync (also those an interrupted sync left pending).
    chunks_embedded: int = 0
    #: Seconds until every file was committed and the base answered searches (lexically).
    seconds_to_searchable: float = 0.0
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
    #: Why a file failed, or why a non-regular file was skipped.
    error: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChunksEmbedded:
    """`count` more chunks are embedded: sent as the embedder finishes them (within a batch, pass
    by pass), so a progress bar moves; their batch is stored and recorded right after."""

    count: int


@dataclass(frozen=True)
class EmbeddingStarted:
    """Every file is committed and searchable lexically; `total` chunks are now being embedded."""

    total: int


@dataclass(frozen=True)
class SyncFinished:
    summary: SyncSummary


SyncEvent = SyncStarted | FileDone | EmbeddingStarted | ChunksEmbedded | SyncFinished


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


class _SyncRun:
    """One sync's steps and what they share: the base, how files are keyed in it, the summary
    being filled and the progress events sent."""

    def __init__(self, kb: KnowledgeBase, key: Callable[[Path], str], emit: Callable[[SyncEvent], None]):
        self.kb, self.key, self.emit = kb, key, emit
        self.summary = SyncSummary()
        #: The base's files under the synced folder, as the sync started (failures drop out).
        self.manifest: dict[str, FileRecord] = {}
        #: The failures remembered from earlier ingests (set by `plan`).
        self.failures: FailureMemory | None = None

    def plan(
        self,
        root: Path,
        under: str,
        limits: ReadLimits,
        *,
        follow_links: bool = False,
        secrets: SecretRules | None = None,
        parser: Parser = parse,
    ) -> tuple[list[Found], list[ReadJob]]:
        """List the folder; settle what the listing alone decides (unchanged, skipped, too large,
        gone while listed) and return the files found and the jobs for those that may have
        changed."""
        found = list(discover(root, exclude=self.kb.home, follow_links=follow_links, secrets=secrets))
        self.summary.files_seen = len(found)
        self.emit(SyncStarted(path_key(root), len(found)))
        self.manifest = self.kb.files(under=under)
        self.failures = FailureMemory(self.kb.memory, readers_version(limits, parser), under)
        # Files indexed before the secret rules were what they are now are read once more.
        recheck = self.kb.memory.secrets_checked(under) != (secrets or SecretRules()).content_version
        jobs: list[ReadJob] = []
        for f in found:
            name = self.key(f.path)
            if not f.readable:
                self.settle(Work(name, "skipped", error=f.skip_reason))
                continue
            try:
                info = os.stat(f.path)
            except OSError as exc:
                self.settle(Work(name, "failed", error=f"cannot read: {exc.strerror or exc}"))
                continue
            old = self.manifest.get(name)
            if old and old.size == info.st_size and old.mtime_ns == info.st_mtime_ns and not recheck:
                self.settle(Work(name, "unchanged"))
            elif known := self.failures.unchanged(name, info):
                self.still_failing(name, known.error)
            elif info.st_size > limits.max_file_bytes:
                self.settle(Work(name, "failed", error=limits.too_large(info.st_size)), info)
            else:
                failed_hash = self.failures.hash_to_match(name)
                jobs.append(
                    ReadJob(
                        name,
                        f.path,
                        info.st_size,
                        info.st_mtime_ns,
                        old,
                        f.identity,
                        f.link,
                        failed_hash,
                        recheck_secrets=recheck,
                    ),
                )
        return found, jobs

    def read(self, jobs: list[ReadJob], pool: ReaderPool) -> None:
        """Read the jobs in reader processes and commit each file as it arrives. A file with
        scanned pages left after one pass (ingest.ocr) is committed as it stands, searchable at
        once, and read again for the rest (its finished pages come from the OCR cache) until
        nothing is left; it is counted and reported once, with its first pass's status."""
        if not jobs:
            return
        by_key = {job.key: job for job in jobs}
        first_status: dict[str, Status] = {}
        with pool:
            while jobs:
                again = []
                for work in _background(pool.read(jobs)):
                    if work.still_failing:
                        self.still_failing_again(work, by_key[work.path])
                        continue
                    if work.status not in ("added", "updated"):
                        self.settle(work, by_key[work.path])
                        continue
                    first = work.path not in first_status
                    work.status = first_status.setdefault(work.path, work.status)
                    self.commit(work, final=not work.pending_pages, first=first)
                    if work.pending_pages and work.record is not None:
                        job = by_key[work.path]
                        again.append(replace(job, old=work.record))
                jobs = again

    def remove_missing(self, found: list[Found]) -> None:
        """Remove the base's files that are no longer in the folder. This comes after the
        additions so that a moved file's chunks reuse the vectors of its old copy."""
        present = {self.key(f.path) for f in found if f.readable}
        if self.failures is not None:
            self.failures.forget_missing(present)
        for path in sorted(set(self.manifest) - present):
            self.summary.chunks_removed += self.kb.remove_file(path)
            self.summary.files_removed += 1
            self.emit(FileDone(path, "removed"))

    def commit(self, work: Work, *, final: bool = True, first: bool = True) -> None:
        """Commit one added or updated file, searchable lexically at once (a file read in
        passes after each pass: counted on its first, reported when its last is done).

        A chunk whose exact text is already embedded in the base (a moved, renamed or copied file,
        or an edited file's unchanged passages) gets that vector now; the others wait for
        `embed_pending`.
        """
        chunks = work.chunks
        vectors = self.kb.known_vectors([c.embed_hash for c in chunks])
        reused = [c for c in chunks if c.embed_hash in vectors]
        if reused:
            self.kb.upsert_vectors(reused, [vectors[c.embed_hash] for c in reused])
        summary = self.summary
        removed = self.kb.commit_file(work.record, chunks, {c.id for c in reused})
        if self.failures is not None:
            self.failures.forget(work.path)
        if first:
            summary.chunks_removed += removed
            if work.status == "added":
                summary.files_added += 1
            else:
                summary.files_updated += 1
        else:  # the chunks of the previous pass, replaced by this one's
            summary.chunks_added -= removed
        summary.chunks_added += len(chunks)
        if final:
            summary.warnings.extend(FileWarning(work.path, w) for w in work.warnings)
            self.emit(FileDone(work.path, work.status, len(chunks), warnings=tuple(work.warnings)))

    def settle(self, work: Work, seen: ReadJob | os.stat_result | None = None) -> None:
        """Record one file that is not added or updated; a failure of a file `seen` (its size
        and modification time known) is remembered for the next sync (ingest.failures)."""
        summary, kb = self.summary, self.kb
        self._remember(work, seen)
        if work.status == "unchanged":
            summary.files_unchanged += 1
            if work.record is not None:
                kb.touch(work.path, work.record.mtime_ns)
        else:
            if work.status == "failed":
                work.error = work.error or "unknown error"
            if work.error and work.path in self.manifest:
                # The base mirrors what can be read now (stale chunks would be cited as if they
                # were still in the file), and never keeps a file now skipped as a secret.
                summary.chunks_removed += kb.remove_file(work.path)
                work.error += "; its previously indexed chunks were removed"
                self.manifest.pop(work.path)
            if work.status == "failed":
                summary.files_failed.append(FileFailure(work.path, work.error))
            else:
                summary.files_skipped += 1
                if work.error:
                    summary.files_skipped_list.append(FileSkip(work.path, work.error))
        self.emit(FileDone(work.path, work.status, error=work.error))

    def still_failing(self, key: str, error: str) -> None:
        """Report a file that failed before and has not changed, with its error."""
        self.summary.files_still_failing.append(FileFailure(key, error))
        self.emit(FileDone(key, "failed", error=f"{STILL_FAILING}: {error}"))

    def still_failing_again(self, work: Work, job: ReadJob) -> None:
        """A file whose time changed but whose bytes are those that failed: remembered with its
        new time (not even hashed next time), reported as still failing."""
        assert self.failures is not None
        error = self.failures.known[work.path].error
        self.failures.remember(work.path, job.size, job.mtime_ns, error, work.content_hash)
        self.still_failing(work.path, error)

    def _remember(self, work: Work, seen: ReadJob | os.stat_result | None) -> None:
        if self.failures is None:
            return
        if work.status != "failed":
            self.failures.forget(work.path)
        elif seen is not None:
            size = seen.size if isinstance(seen, ReadJob) else seen.st_size
            mtime_ns = seen.mtime_ns if isinstance(seen, ReadJob) else seen.st_mtime_ns
            error = work.error or "unknown error"
            self.failures.remember(work.path, size, mtime_ns, error, work.content_hash)


def embed_pending(
    kb: KnowledgeBase,
    *,
    batch_size: int | None = None,
    on_event: Callable[[SyncEvent], None] | None = None,
) -> int:
    """Embed every chunk of `kb` that is committed but has no vector yet; returns how many.

    Each batch is upserted to Chroma, then marked embedded in SQLite, so an interruption at any
    point loses at most the batch in flight (and reconcile recovers even that from Chroma).
    The caller holds the writer lock (`kb.begin_write`). Texts already embedded elsewhere in the
    base reuse that vector; duplicates within a batch are embedded once.
    """
    emit = on_event or (lambda event: None)
    total = kb.pending_count()
    emit(EmbeddingStarted(total))
    if not total:
        return 0
    batch_size = batch_size or max(16, kb.embedder.embed_batch_size())
    done = 0
    while chunks := kb.pending_chunks(batch_size):
        vectors = kb.known_vectors([c.embed_hash for c in chunks])
        missing = {c.embed_hash: c for c in chunks if c.embed_hash not in vectors}
        reported = 0

        def step(count: int) -> None:
            nonlocal reported
            count = min(count, len(chunks) - reported)  # texts shared by chunks count once
            if count > 0:
                reported += count
                emit(ChunksEmbedded(count))

        if missing:
            texts = [_embed_text(c) for c in missing.values()]
            vectors.update(zip(missing, _embed_in_steps(kb.embedder, texts, step), strict=True))
        kb.upsert_vectors(chunks, [vectors[c.embed_hash] for c in chunks])
        kb.mark_embedded([c.id for c in chunks])
        done += len(chunks)
        step(len(chunks) - reported)
    return done


def _embed_in_steps(embedder, texts: list[str], step: Callable[[int], None]) -> list[list[float]]:
    """The embedder's vectors for `texts`, reporting progress where it can (a plugin's LangChain
    `Embeddings` may lack `embed_documents_in_steps`: it reports at the end)."""
    if hasattr(embedder, "embed_documents_in_steps"):
        return embedder.embed_documents_in_steps(texts, step)
    vectors = embedder.embed_documents(texts)
    step(len(texts))
    return vectors


def _embed_text(chunk: StoredChunk) -> str:
    meta = chunk.metadata
    return with_context(str(meta.get("title", "")), str(meta.get("heading", "")), chunk.text)


def file_keys(root: Path, *, shared: bool, source: str | None = None) -> tuple[Callable[[Path], str], str]:
    """How files under `root` are known in a base, and the key under which all of them lie.

    Absolute paths in a base on this machine; `SOURCE/relative/path` in a shared base.
    """
    if not shared:
        return path_key, path_key(root)
    folder = root.parent if root.is_file() else root
    label = source_label(root, source)

    def key(path: Path) -> str:
        return f"{label}/{path_key(path.relative_to(folder)).replace(os.sep, '/')}"

    return key, key(root) if root.is_file() else label


def _claim_source(kb: KnowledgeBase, root: Path, source: str | None, confirm, summary: SyncSummary) -> None:
    """Make sure the sync removes no files another folder of the same name added (a shared base:
    asked with `confirm`; an explicit `source` counts as yes), and report what the base skipped."""
    folder = root.parent if root.is_file() else root
    kb.claim_source(source_label(root, source), folder, confirmed=source is not None, confirm=confirm)
    summary.warnings.extend(FileWarning(what, f"skipped: {why}") for what, why in kb.problems()[1])


def source_label(root: Path, source: str | None = None) -> str:
    """The name files under `root` are known by in a shared base: `source`, else the folder's."""
    folder = root.parent if root.is_file() else root
    return " ".join((source or "").split()).strip("/") or folder.name or "files"


def sync(
    kb: KnowledgeBase,
    root: Path,
    *,
    chunker: Chunker | None = None,
    on_event: Callable[[SyncEvent], None] | None = None,
    batch_size: int | None = None,
    limits: ReadLimits | None = None,
    workers: int | None = None,
    parser: Parser = parse,
    source: str | None = None,
    follow_links: bool = False,
    secrets: SecretRules | None = None,
    confirm: Callable[[str], bool] | None = None,
) -> SyncSummary:
    """Make the part of `kb` that came from `root` match the files under `root` now.

    In a base on this machine a file is known by its absolute path. In a shared base (on a
    Chroma server, used from several machines) it is known by `source` (default: the name of
    the folder `root`) and its path inside `root`, so machines that mount the same shared
    folder at different places keep one copy of each file: `source` names it when the folder's
    name differs between them. A source that another folder was ingested from is synced only on
    the user's word: `confirm` asks it (at a terminal), and an explicit `source` counts as yes.

    `limits` bound what one file may cost (size, expanded size, time, memory); `workers` is the
    number of reader processes; `parser` (a module-level function, it is pickled) reads a file's
    bytes into a document, `ingest.formats.parse` unless a test or plug-in says otherwise.

    Links that lead out of `root` are skipped unless `follow_links`; files that hold secrets by
    name or content (the built-in rules plus `secrets`' extra ones) are never indexed, and any
    chunks a base held for them are removed (ingest.discovery, ingest.secret_rules).
    """
    chunker = chunker or Chunker()
    limits = limits or ReadLimits()
    started = time.perf_counter()
    root = root.expanduser().resolve()
    if not root.exists():
        raise FileNotFoundError(f"{root} does not exist")

    key, under = file_keys(root, shared=kb.shared, source=source)
    run = _SyncRun(kb, key, on_event or (lambda event: None))
    summary = run.summary
    kb.begin_write()
    try:
        _claim_source(kb, root, source, confirm, summary)
        if not kb.shared:  # paths are shown relative to the folder they were ingested from
            kb.memory.add_folder(path_key(root if root.is_dir() else root.parent))
        found, jobs = run.plan(root, under, limits, follow_links=follow_links, secrets=secrets, parser=parser)
        run.read(jobs, ReaderPool(chunker, limits, parser, workers, secrets))
        kb.memory.set_secrets_checked(under, (secrets or SecretRules()).content_version)
        run.remove_missing(found)
        # Everything is committed: the base answers searches now, lexically. Embedding comes
        # last and covers what any earlier, interrupted sync of this base left pending.
        summary.seconds_to_searchable = round(time.perf_counter() - started, 3)
        summary.chunks_embedded = embed_pending(kb, batch_size=batch_size, on_event=run.emit)
    finally:
        kb.end_write()
    summary.seconds = round(time.perf_counter() - started, 3)
    run.emit(SyncFinished(summary))
    return summary
