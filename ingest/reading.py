"""Reading one file: open it safely, hash it, parse it, check it for secrets and chunk it. Runs
in a reader process (see ingest.workers), so nothing here touches the knowledge base.

The file opened must be the one discovery approved (ingest.discovery): its device and inode are
compared before and after opening, so a file or link swapped in between (to point out of the
folder, at a secret, or into /proc) is not read. A document whose extracted text holds a secret
(ingest.secret_rules) is skipped, never indexed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from vectorstore.lexical import FileRecord, StoredChunk, search_tokens

from .chunking import Chunk, Chunker
from .discovery import system_folder
from .formats import NothingToIndexError, ParsedDocument, UnreadableFileError, kind_of, parse
from .limits import ZIP_MAGIC, LimitExceededError, ReadLimits, check_expansion
from .secret_rules import SecretRules

Status = Literal["added", "updated", "unchanged", "removed", "failed", "skipped"]

#: Turns a file's bytes into (kind, document); must be a module-level function (it is pickled).
Parser = Callable[[Path, bytes], tuple[str, ParsedDocument]]

# Containers checked for their expanded size before a reader inflates them.
_ZIP_KINDS = frozenset({".docx", ".epub"})


@dataclass(frozen=True)
class ReadJob:
    """One file for a reader: where it is, its key in the base, and what the base has for it."""

    key: str
    path: Path
    size: int
    mtime_ns: int
    old: FileRecord | None = None
    #: (st_dev, st_ino) of the file discovery approved; None: any regular file at `path`.
    identity: tuple[int, int] | None = None
    #: Whether `path` is a link (to a file inside the folder, or followed on request).
    link: bool = False
    #: The content hash this file had when it last failed with these readers (ingest.failures):
    #: the same bytes fail again without being parsed.
    failed_hash: str = ""
    #: Unchanged in the base, read again only to check it with secret rules it was not checked
    #: with (ingest.sync): it is parsed and checked, and stays unchanged unless it holds a secret.
    recheck_secrets: bool = False


@dataclass
class Work:
    """One file's outcome from a reader."""

    path: str
    status: Status
    record: FileRecord | None = None
    chunks: list[StoredChunk] = field(default_factory=list)
    embed_texts: list[str] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: Scanned pages this pass left for the next one (ingest.ocr): the file is read again.
    pending_pages: int = 0
    #: The content's hash, where the reader got that far (kept with a failure).
    content_hash: str = ""
    #: A failed file whose bytes are those of its remembered failure: not parsed again.
    still_failing: bool = False


#: Marks the manifest record of a file committed with scanned pages still to read, so that
#: the next ingest reads it again (from the OCR page cache) instead of calling it unchanged.
PARTIAL = "~partial"


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def display_text(text: str) -> str:
    """`text` with any undecodable file-name bytes (lone surrogates) written as `\\xNN`."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class ChangedFileError(UnreadableFileError):
    """The file at a path is no longer the one discovery approved (swapped, or made a link)."""

    def __init__(self) -> None:
        super().__init__("changed into another file or a link after it was found; not read (ingest again)")


class SkippedFileError(UnreadableFileError):
    """A file that is never indexed (a secret, a system file); the message says why."""


def read_bytes(
    path: Path, limits: ReadLimits, identity: tuple[int, int] | None = None, *, link: bool = True
) -> bytes:
    """The bytes of the regular file at `path`, refusing anything else or anything too large.

    Opened without blocking, so a file swapped for a pipe after discovery cannot hang the read.
    With `identity`, only that file is read: it is checked before opening (opening a device can
    act) and again on the open descriptor. Without `link`, a path that became a link is refused.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not link:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    if identity is not None and _identity(os.stat(path)) != identity:
        raise ChangedFileError()
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not link:
            raise ChangedFileError() from None
        raise
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if identity is not None and _identity(info) != identity:
            raise ChangedFileError()
        if where := system_folder(path, info.st_dev):
            raise SkippedFileError(f"in {where}, whose system files are never read; skipped")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFileError("not a regular file; skipped")
        if info.st_size > limits.max_file_bytes:
            raise LimitExceededError(limits.too_large(info.st_size))
        data = file.read(limits.max_file_bytes + 1)
    if len(data) > limits.max_file_bytes:  # it grew after the check
        raise LimitExceededError(limits.too_large(len(data)))
    return data


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def read_document(
    job: ReadJob,
    chunker: Chunker,
    limits: ReadLimits,
    parser: Parser = parse,
    secrets: SecretRules | None = None,
) -> Work:
    """Read, hash, parse, check for secrets and chunk one file. Expected problems come back as a
    failed (or, for files never indexed, skipped) Work; anything else (a parser bug, MemoryError,
    RecursionError) is raised for the caller."""
    key, old = job.key, job.old
    try:
        data = read_bytes(job.path, limits, job.identity, link=job.link)
    except OSError as exc:
        return Work(key, "failed", error=f"cannot read: {exc.strerror or exc}")
    except (ChangedFileError, SkippedFileError) as exc:
        return Work(key, "skipped", error=str(exc))
    except (UnreadableFileError, LimitExceededError) as exc:
        return Work(key, "failed", error=str(exc))
    digest = content_hash(data)
    if old and old.content_hash == digest:
        if job.recheck_secrets and (secret := _secret_in(job, data, limits, parser, secrets)):
            return Work(key, "skipped", error=secret)
        record = FileRecord(key, digest, job.size, job.mtime_ns, old.title, old.kind, old.chunk_ids)
        return Work(key, "unchanged", record=record)
    if job.failed_hash == digest:  # touched or copied back, same bytes: it fails as before
        return Work(key, "failed", content_hash=digest, still_failing=True)
    held = [data]  # handed over so that the parser's step can drop the bytes before chunking
    del data
    work = _parse_and_chunk(job, held, digest, chunker, limits, parser, secrets)
    if work.status == "failed":
        work.content_hash = digest
    return work


def _secret_in(
    job: ReadJob, data: bytes, limits: ReadLimits, parser: Parser, secrets: SecretRules | None
) -> str | None:
    """Why an indexed file's text holds a secret by the current rules, or None (also when it
    cannot be parsed now: it stays as it was indexed)."""
    try:
        if kind_of(job.path) in _ZIP_KINDS and data.startswith(ZIP_MAGIC):
            check_expansion(data, limits)
        _, doc = parser(job.path, data)
    except (NothingToIndexError, UnreadableFileError, LimitExceededError):
        return None
    return (secrets or SecretRules()).content_reason(f"{doc.title}\n{doc.text}")


def _parse_and_chunk(
    job: ReadJob,
    held: list[bytes],
    digest: str,
    chunker: Chunker,
    limits: ReadLimits,
    parser: Parser,
    secrets: SecretRules | None,
) -> Work:
    """The rest of `read_document` once the bytes are read and are new: parse, check, chunk.
    It takes the bytes out of `held`, so that none is left once they are parsed."""
    key, old, data = job.key, job.old, held.pop()
    try:
        if kind_of(job.path) in _ZIP_KINDS and data.startswith(ZIP_MAGIC):
            check_expansion(data, limits)
        kind, doc = parser(job.path, data)
        del data
        # On the extracted text, so a key block inside a PDF or a DOCX is found too.
        if secret := (secrets or SecretRules()).content_reason(f"{doc.title}\n{doc.text}"):
            return Work(key, "skipped", error=secret)
        doc.title = display_text(doc.title)
        chunks = chunker.chunk(doc, source=key, content_hash=digest, kind=kind)
    except NothingToIndexError as exc:
        return Work(key, "skipped", error=str(exc))
    except (UnreadableFileError, LimitExceededError) as exc:
        return Work(key, "failed", error=str(exc))
    if not chunks and not doc.ocr_pending:
        return Work(key, "failed", error="no text to index")
    if doc.ocr_pending:
        # Ids of their own for this pass's chunks: the next pass's may hold other text at the
        # same position, and a base keeps a chunk whose id it already has.
        tag = content_hash(f"{digest}:{doc.ocr_pages}".encode())[:8]
        chunks = [replace(c, id=f"{c.id}~{tag}") for c in chunks]
    ids = tuple(c.id for c in chunks)
    if doc.ocr_pending:
        record = FileRecord(key, digest + PARTIAL, job.size, 0, doc.title, kind, ids)
    else:
        record = FileRecord(key, digest, job.size, job.mtime_ns, doc.title, kind, ids)
    # Hashing and word segmentation happen here, off the embedding process.
    return Work(
        key,
        "updated" if old else "added",
        record,
        [stored_chunk(c) for c in chunks],
        [c.embed_text for c in chunks],
        warnings=doc.warnings,
        pending_pages=doc.ocr_pending,
    )


def stored_chunk(chunk: Chunk) -> StoredChunk:
    embed_hash = content_hash(chunk.embed_text.encode("utf-8"))
    tokens = search_tokens(StoredChunk(chunk.id, chunk.text, chunk.metadata))
    return StoredChunk(chunk.id, chunk.text, chunk.metadata, embed_hash, tokens)
