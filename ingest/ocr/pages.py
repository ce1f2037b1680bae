"""The pages of one file that need OCR: cache, page limit, per-page time limit, pass budget, and
what to tell the user about them."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import Budget, OcrOptions, OcrUnavailableError, PageTimeoutError, read_image
from .layout import LOW_CONFIDENCE, PageText

#: Changes when the engine or the layout would read a page differently: older cache entries are
#: then ignored.
CACHE_VERSION = "rapidocr3-v6s-det8-2"
#: A page whose share of doubtful characters is above this is reported.
DOUBTFUL_SHARE = 0.2


class PageCache:
    """Finished pages of a file, one small JSON file each under `folder/HASH/`."""

    def __init__(self, folder: Path | None, digest: str) -> None:
        self.folder = folder / CACHE_VERSION / digest if folder else None

    def get(self, page: int) -> PageText | None:
        if self.folder is None:
            return None
        try:
            data = json.loads((self.folder / f"{page}.json").read_text(encoding="utf-8"))
            return PageText(data["text"], data["doubtful"], data["chars"], data["vertical"], data["rotation"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, page: int, text: PageText) -> None:
        if self.folder is None:
            return
        data = {
            "text": text.text,
            "doubtful": text.doubtful_chars,
            "chars": text.chars,
            "vertical": text.vertical,
            "rotation": text.rotation,
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(data, file, ensure_ascii=False)
            os.replace(tmp, self.folder / f"{page}.json")
        except OSError:
            pass  # a cache that cannot be written costs a re-read later, nothing else


@dataclass
class PageReader:
    """Reads the scanned pages of one file, in page order, and keeps count."""

    options: OcrOptions
    digest: str
    #: Pages read by OCR now or in an earlier pass (from the cache).
    read: int = 0
    #: Scanned pages left for the next pass (this pass's budget ran out).
    pending: int = 0
    over_limit: list[int] = field(default_factory=list)
    timed_out: list[int] = field(default_factory=list)
    doubtful: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        has_cache = self.options.cache_dir is not None
        self.cache = PageCache(self.options.cache_dir, self.digest)
        self.budget = Budget(self.options.budget if has_cache else None)
        self.attempted = 0
        self.fresh = 0  # pages OCR'd in this pass (each pass reads at least one)

    def page(self, number: int, render: Callable[[], object]) -> PageText | None:
        """The text of page `number` (1-based), rendered by `render()` only if it must be read."""
        cached = self.cache.get(number)
        if cached is None:
            if self.attempted >= self.options.max_pages:
                self.over_limit.append(number)
                return None
            if self.fresh and self.budget.spent():
                self.pending += 1
                return None
            self.attempted += 1
            self.fresh += 1
            try:
                cached = read_image(render(), self.options)
            except PageTimeoutError:
                self.timed_out.append(number)
                return None
            except OcrUnavailableError:
                raise
            self.cache.put(number, cached)
        else:
            self.attempted += 1
        self.read += 1
        if cached.doubtful_share > DOUBTFUL_SHARE:
            self.doubtful.append(number)
        return cached

    def warnings(self, unit: str = "pages") -> list[str]:
        out = []
        if self.over_limit:
            out.append(
                f"{len(self.over_limit)} scanned {unit} after the first {self.options.max_pages} were "
                f"not read ({_pages(self.over_limit)}); raise ASSISTANT_OCR_MAX_PAGES to read them"
            )
        if self.timed_out:
            out.append(
                f"OCR of {unit} {_pages(self.timed_out)} took longer than {self.options.page_timeout:g} s "
                "of CPU time each and was skipped (ASSISTANT_OCR_PAGE_TIMEOUT)"
            )
        if self.doubtful:
            out.append(
                f"OCR was unsure of much of the text on {unit} {_pages(self.doubtful)} "
                f"(confidence below {LOW_CONFIDENCE:g}); check those passages against the original"
            )
        return out


def _pages(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:10]))
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")


def file_digest(data: bytes) -> str:
    """The cache key of a file's bytes (the same hash as the knowledge base's manifest)."""
    return hashlib.blake2b(data, digest_size=20).hexdigest()
