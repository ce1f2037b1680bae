"""What one file may cost an ingest: its size, the expanded size of a zip-based container, and
the time and memory its reader may use. A file over a limit is reported and skipped; every
message names the setting that raises the limit."""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

MB = 1024 * 1024

#: How zip-based documents (DOCX, EPUB, ...) begin.
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class ReadLimits:
    #: Largest file read, in MB (ASSISTANT_MAX_FILE_MB): larger files are not opened at all.
    max_file_mb: float = 100
    #: Largest total expanded size of a zip-based container, in MB (ASSISTANT_MAX_EXPANDED_MB).
    max_expanded_mb: float = 512
    #: Seconds one file may take to read, parse and chunk (ASSISTANT_FILE_TIMEOUT).
    file_timeout: float = 120.0
    #: Address space of a reader process, in MB (ASSISTANT_WORKER_MEMORY_MB); Linux and macOS.
    worker_memory_mb: float = 4096

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * MB)

    @property
    def max_expanded_bytes(self) -> int:
        return int(self.max_expanded_mb * MB)

    def too_large(self, size: int) -> str:
        return (
            f"{size / MB:,.1f} MB, larger than the {self.max_file_mb:g} MB limit "
            "(ASSISTANT_MAX_FILE_MB); raise it to ingest this file"
        )

    def too_expanded(self) -> str:
        return (
            f"expands to more than the {self.max_expanded_mb:g} MB limit for compressed documents "
            "(ASSISTANT_MAX_EXPANDED_MB); raise it if the file is genuine"
        )

    def too_slow(self) -> str:
        return (
            f"reading took longer than the {self.file_timeout:g} s limit and was stopped "
            "(ASSISTANT_FILE_TIMEOUT); raise it for very large documents"
        )

    def too_hungry(self) -> str:
        return (
            f"reading needed more than the {self.worker_memory_mb:g} MB memory limit and was stopped "
            "(ASSISTANT_WORKER_MEMORY_MB)"
        )


class LimitExceededError(ValueError):
    """A file is over one of the ReadLimits; the message names the setting."""


def check_expansion(data: bytes, limits: ReadLimits) -> None:
    """Raise LimitExceededError if the zip container `data` expands beyond the limit.

    Both the sizes the archive declares and the bytes its members actually inflate to are
    counted, the latter as a stream that stops at the limit, so a lying header cannot get a
    bomb past. An archive too broken to list is left to its reader to report.
    """
    limit = limits.max_expanded_bytes
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return
    with archive:
        members = archive.infolist()
        if sum(info.file_size for info in members) > limit:
            raise LimitExceededError(limits.too_expanded())
        total = 0
        for info in members:
            try:
                with archive.open(info) as member:
                    while piece := member.read(MB):
                        total += len(piece)
                        if total > limit:
                            raise LimitExceededError(limits.too_expanded())
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError, OSError):
                continue  # an encrypted or corrupt member: its reader says so
