"""PDF through PDFium (pypdfium2): fast, good with CJK fonts; one section per page.

A page without a text layer (a scan) is rendered and read by OCR (ingest.ocr) when it is on;
a mixed PDF keeps both kinds of page, each under its page number.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..ocr import RENDER_DPI, OcrOptions
from ..ocr.pages import PageReader, file_digest
from .base import ParsedDocument, UnreadableFileError
from .pdf_tables import TableFinder, may_have_tables, text_around

#: A page with fewer characters of text than this (a page number, a stamp) counts as scanned.
MIN_TEXT_CHARS = 20

# Table-of-contents dot leaders (". . . . . .") cost tokens and carry nothing.
_DOT_LEADER = re.compile(r"(?: ?\.){4,}")


def parse_pdf(path: Path, data: bytes, ocr: OcrOptions | None = None) -> ParsedDocument:
    import pypdfium2 as pdfium

    ocr = ocr or OcrOptions()

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise UnreadableFileError("not a PDF file (no %PDF header)")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise UnreadableFileError(
                "password-protected PDF; save an unprotected copy to index it"
            ) from None
        reason = re.search(r"\((PDFium: [^)]*)\)", message)
        raise UnreadableFileError(
            f"corrupt or truncated PDF ({reason.group(1) if reason else message}); "
            "re-download or re-export it"
        ) from None
    try:
        title = (pdf.get_metadata_dict().get("Title") or "").strip() or path.stem
        doc = ParsedDocument(title=title)
        reader = PageReader(ocr, file_digest(data)) if ocr.enabled else None
        tables = TableFinder(data)
        failed_pages, scanned = [], 0
        for number in range(len(pdf)):
            try:
                page = pdf[number]
                text, ocr_read = _page_text(page, tables, number), False
                if len("".join(text.split())) < MIN_TEXT_CHARS and _has_content(page):
                    scanned += 1
                    if reader is not None:
                        read = reader.page(number + 1, lambda page=page: _render(page))
                        if read is not None and read.text.strip():
                            text, ocr_read = read.text, True
            except pdfium.PdfiumError:
                failed_pages.append(number + 1)
                continue
            doc.add(text, page=number + 1, ocr=ocr_read)
    finally:
        tables.close()
        pdf.close()
    if failed_pages:
        doc.warnings.append(f"pages {', '.join(map(str, failed_pages))} could not be read")
    if reader is not None:
        doc.ocr_pages, doc.ocr_pending = reader.read, reader.pending
        doc.warnings.extend(reader.warnings())
    if not doc.text.strip() and not doc.ocr_pending:
        if scanned and reader is None:
            raise UnreadableFileError(
                "the PDF has no text layer (a scan) and OCR is off (ASSISTANT_OCR=0); turn it on to read it"
            )
        if scanned:
            raise UnreadableFileError("no text found in the PDF, not even by OCR (blank or unreadable scan)")
        raise UnreadableFileError("the PDF has no extractable text")
    return doc


def _page_text(page, tables: TableFinder, number: int) -> str:
    """The page's text layer, its ruled tables as Markdown (ingest.formats.pdf_tables)."""
    text = None
    if may_have_tables(page):
        try:
            found = tables.tables(number)
        except Exception:  # pdfminer trips on PDFs PDFium reads: the text is still worth having
            found = []
        if found:
            text = text_around(page, found)
    if text is None:
        text = page.get_textpage().get_text_bounded()
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return _DOT_LEADER.sub(" … ", text)


def _has_content(page) -> bool:
    """Whether anything is drawn on the page (a blank page is not worth OCR)."""
    return next(iter(page.get_objects(max_depth=1)), None) is not None


def _render(page):
    """The page as a PIL image at RENDER_DPI, its longer side at most ingest.ocr.MAX_SIDE."""
    from ..ocr import MAX_SIDE

    width, height = page.get_size()
    scale = min(RENDER_DPI / 72, MAX_SIDE / max(width, height, 1))
    return page.render(scale=scale, grayscale=False).to_pil()
