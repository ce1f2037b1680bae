"""E-books (.epub) through ebooklib: chapters in reading order, each chapter's HTML as Markdown."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from .base import ParsedDocument, UnreadableFileError
from .html import html_to_document


def parse_epub(path: Path, data: bytes) -> ParsedDocument:
    import ebooklib
    from ebooklib import epub

    with tempfile.NamedTemporaryFile(suffix=".epub") as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                book = epub.read_epub(tmp.name, options={"ignore_ncx": True})
        except Exception as exc:  # ebooklib raises zipfile, KeyError, lxml and its own errors
            raise UnreadableFileError(
                f"not a readable EPUB ({exc}); DRM-protected books cannot be read"
            ) from None

    titles = book.get_metadata("DC", "title")
    doc = ParsedDocument(title=(titles[0][0].strip() if titles else "") or path.stem)
    items = [book.get_item_with_id(idref) for idref, _ in book.spine]
    for item in items:
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        try:
            chapter = html_to_document(item.get_content().decode("utf-8", "replace"), "")
        except UnreadableFileError:
            continue  # an empty chapter (cover, blank page)
        prefix = chapter.title.strip()
        for section in chapter.sections:
            heading = section.heading or prefix
            if prefix and section.heading and not section.heading.startswith(prefix):
                heading = f"{prefix} > {section.heading}"
            doc.add(chapter.text[section.start : section.end], heading=heading)
    if not doc.text.strip():
        raise UnreadableFileError("the book has no readable text")
    return doc
