"""Image files (.png .jpg .jpeg .tif .tiff .webp .bmp) read by OCR (ingest.ocr): a photo or
scan of a page, or several pages in one multi-page TIFF. Camera rotation (EXIF) is applied."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from ..ocr import OcrOptions
from ..ocr.pages import PageReader, file_digest
from .base import NothingToIndexError, ParsedDocument, UnreadableFileError

IMAGE_EXTENSIONS = frozenset(".png .jpg .jpeg .tif .tiff .webp .bmp".split())

#: Largest image decoded, in pixels (a 12,000 x 12,000 scan); larger ones are refused before
#: decoding, so a small file that claims gigapixels cannot exhaust a reader's memory.
MAX_PIXELS = 144_000_000


def parse_image(path: Path, data: bytes, ocr: OcrOptions | None = None) -> ParsedDocument:
    from PIL import Image, ImageOps, UnidentifiedImageError

    ocr = ocr or OcrOptions()
    if not ocr.enabled:
        raise NothingToIndexError("an image, and OCR is off (ASSISTANT_OCR=0)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise UnreadableFileError(
                    f"image too large to read ({image.width} x {image.height} pixels, more than "
                    f"{MAX_PIXELS // 1_000_000} megapixels); scale it down"
                )
            frames = getattr(image, "n_frames", 1)
            doc = ParsedDocument(title=path.stem)
            reader = PageReader(ocr, file_digest(data))
            for index in range(frames):
                image.seek(index)
                frame = ImageOps.exif_transpose(image) if index == 0 else image.copy()
                read = reader.page(index + 1, lambda frame=frame: frame)
                if read is not None:
                    doc.add(read.text, page=index + 1 if frames > 1 else None, ocr=True)
    except UnidentifiedImageError:
        raise UnreadableFileError("not a readable image (unknown format, or corrupt)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnreadableFileError(f"not a readable image ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, UnreadableFileError):
            raise
        raise UnreadableFileError(f"corrupt or truncated image ({exc}); re-export it") from None
    doc.ocr_pages, doc.ocr_pending = reader.read, reader.pending
    doc.warnings.extend(reader.warnings("images" if frames == 1 else "pages"))
    if not doc.text.strip() and not doc.ocr_pending:
        raise NothingToIndexError("no text found in the image")
    return doc
