"""Files that could not be read, remembered between ingests of a base on this machine, so that a
file that has not changed is reported as "still failing, unchanged" instead of being read (and
failing) again on every run.

A failure is remembered with the file's size, modification time and content hash as it was, and
the readers' version: this module's READERS_VERSION, the assistant's version, the OCR engine's
version (its page cache's, ingest.ocr.pages.CACHE_VERSION), the read limits and the parser's
options (OCR on or off). A file whose size or modification time changed, a changed limit setting
or OCR option, or a new version of the readers reads it again; a file whose modification time
changed but whose bytes did not (touched, copied back) is read and hashed, not parsed. The table
lives in the base's index (vectorstore.ingest_memory, migration m005_failed_files).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

from .limits import ReadLimits

if TYPE_CHECKING:
    from vectorstore.ingest_memory import FailedFile, IngestMemory

#: Raise when a reader learns to read what it could not (a new format, a fixed parser bug):
#: every remembered failure is then tried again.
READERS_VERSION = "1"

#: Put before a remembered failure's error when it is reported again.
STILL_FAILING = "still failing, unchanged since the last ingest (not read again)"


@functools.cache
def _assistant_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("r1-assistant")
    except PackageNotFoundError:
        return "unknown"


def _parser_id(parser: Callable) -> str:
    """What the parser is and its options, the same in every process (no memory addresses)."""
    func, args, keywords = parser, (), {}
    if isinstance(parser, functools.partial):
        func, args, keywords = parser.func, parser.args, parser.keywords
    name = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', type(func).__name__)}"
    return f"{name}{args!r}{sorted(keywords.items())!r}"


def readers_version(limits: ReadLimits, parser: Callable) -> str:
    """The version a failure is remembered under: a change to any part retries the file."""
    from .ocr.pages import CACHE_VERSION as OCR_VERSION

    limit_text = ",".join(f"{k}={v:g}" for k, v in asdict(limits).items())
    return (
        f"readers {READERS_VERSION}; assistant {_assistant_version()}; ocr {OCR_VERSION}; "
        f"{limit_text}; {_parser_id(parser)}"
    )


class FailureMemory:
    """One sync's view of the remembered failures under the synced folder."""

    def __init__(self, memory: IngestMemory, version: str, under: str) -> None:
        self.memory, self.version = memory, version
        self.known: dict[str, FailedFile] = memory.failures(under or None)

    def unchanged(self, key: str, info: os.stat_result) -> FailedFile | None:
        """The remembered failure of file `key`, if the file and the readers are as they were."""
        known = self.known.get(key)
        if (
            known is not None
            and known.size == info.st_size
            and known.mtime_ns == info.st_mtime_ns
            and known.readers == self.version
        ):
            return known
        return None

    def hash_to_match(self, key: str) -> str:
        """The content hash file `key` failed with under these readers ("" if none): a reader
        that finds the same bytes (the file was touched, or copied back) does not parse them."""
        known = self.known.get(key)
        return known.content_hash if known is not None and known.readers == self.version else ""

    def remember(self, key: str, size: int, mtime_ns: int, error: str, content_hash: str = "") -> None:
        from vectorstore.ingest_memory import FailedFile

        failure = FailedFile(key, size, mtime_ns, content_hash, error, self.version)
        self.memory.remember(failure)
        self.known[key] = failure

    def forget(self, key: str) -> None:
        """File `key` was read (or skipped, or is gone): its failure, if any, is over."""
        if self.known.pop(key, None) is not None:
            self.memory.forget([key])

    def forget_missing(self, present: set[str]) -> None:
        """Forget the failures of files no longer in the folder."""
        gone = [key for key in self.known if key not in present]
        for key in gone:
            self.known.pop(key)
        if gone:
            self.memory.forget(gone)
