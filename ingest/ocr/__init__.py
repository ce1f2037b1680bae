"""OCR for pages without a text layer (scanned PDF pages) and for image files.

Runs inside the reader processes (ingest.workers), under their memory and time limits: the
engine's models load once per reader (ingest.ocr.engine), each page has its own time limit,
a file has a page-count limit, and one pass over a file spends at most `OcrOptions.budget`
seconds on OCR: a long scan is committed pass by pass (ingest.sync reads it again for the rest),
so its first pages are searchable while the others are read. Finished pages are kept in a cache
keyed by the file's content hash and page (ingest.ocr.pages), so an interrupted ingest resumes
where it stopped.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .layout import LOW_CONFIDENCE, PageText

#: Pages are rendered for OCR at this resolution (dots per inch).
RENDER_DPI = 150
#: Longest side, in pixels, of an image handed to the engine (larger images are scaled down).
MAX_SIDE = 2600


@dataclass(frozen=True)
class OcrOptions:
    """What OCR may do and cost; built from settings (assistant.settings) and passed down."""

    enabled: bool = True
    #: CPU seconds one page may take; a page over it is skipped with a warning (ASSISTANT_OCR_PAGE_TIMEOUT).
    page_timeout: float = 30.0
    #: Most pages of one file that are OCR'd (ASSISTANT_OCR_MAX_PAGES); later ones are skipped.
    max_pages: int = 300
    #: Seconds of OCR per pass over one file (see the module docstring); None: no limit.
    budget: float | None = None
    #: Folder of finished pages (HOME/ocr-cache); None: no cache, so no passes either.
    cache_dir: Path | None = None


class PageTimeoutError(Exception):
    """A page took longer than its time limit."""


class OcrUnavailableError(RuntimeError):
    """The OCR engine cannot be loaded (not installed, or broken); the message says what to do."""


def read_image(image, options: OcrOptions | None = None, engine=None) -> PageText:
    """Recognise the text of one page image (a PIL image) under the page time limit, with this
    process's engine (or `engine`, an ingest.ocr.engine.OcrEngine)."""
    import numpy as np

    from .engine import shared_engine
    from .layout import arrange

    options = options or OcrOptions()
    image = image.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    image = despeckle(image)
    pixels = np.asarray(image)
    try:
        engine = engine or shared_engine()
    except ImportError as exc:
        raise OcrUnavailableError(
            f"the OCR engine is not installed ({exc.name or exc}); reinstall the assistant "
            "(pip install .) or set ASSISTANT_OCR=0"
        ) from None
    with time_limit(options.page_timeout):
        boxes = engine.detect(pixels)
        lines = engine.recognize(pixels, boxes)
    return arrange(lines, image.width, image.height)


#: Share of a page's pixels that are lone dark specks above which the page is median-filtered
#: (a clean page has none; a badly scanned or faxed one many, and they break detection).
SPECKLE = 0.0005


def despeckle(image):
    """`image` median-filtered if salt-and-pepper noise covers it; else `image` itself."""
    import numpy as np
    from PIL import ImageFilter

    gray = np.asarray(image.convert("L"))
    dark, light = gray < 110, np.pad(gray > 180, 1, constant_values=True)
    lone = dark.copy()
    for dy in range(3):
        for dx in range(3):
            if (dy, dx) != (1, 1):
                lone &= light[dy : dy + gray.shape[0], dx : dx + gray.shape[1]]
    return image.filter(ImageFilter.MedianFilter(3)) if lone.mean() > SPECKLE else image


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise PageTimeoutError in this thread once this process has used `seconds` of CPU time
    (main thread, Unix only; elsewhere the reader's file time limit still holds). CPU time, not
    wall time: on a machine busy with other work a page is not cut for waiting its turn."""
    usable = (
        seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    expired = []

    def expire(signum, frame):
        expired.append(True)
        raise PageTimeoutError(f"took longer than {seconds:g} s of CPU time")

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    except Exception:
        if expired:  # the engine may wrap our exception in its own
            raise PageTimeoutError(f"took longer than {seconds:g} s of CPU time") from None
        raise
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


class Budget:
    """Seconds left for OCR in this pass over a file."""

    def __init__(self, seconds: float | None) -> None:
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def spent(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


__all__ = [
    "LOW_CONFIDENCE",
    "MAX_SIDE",
    "RENDER_DPI",
    "Budget",
    "OcrOptions",
    "OcrUnavailableError",
    "PageText",
    "PageTimeoutError",
    "read_image",
    "time_limit",
]
