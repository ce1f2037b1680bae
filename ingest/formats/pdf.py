"""PDF through PDFium (pypdfium2): fast, good with CJK fonts; one section per page."""

from __future__ import annotations

import re
from pathlib import Path

from .base import ParsedDocument, UnreadableFileError

# Table-of-contents dot leaders (". . . . . .") cost tokens and carry nothing.
_DOT_LEADER = re.compile(r"(?: ?\.){4,}")


def parse_pdf(path: Path, data: bytes) -> ParsedDocument:
    import pypdfium2 as pdfium

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
        failed_pages = []
        for number in range(len(pdf)):
            try:
                page = pdf[number]
                text = page.get_textpage().get_text_bounded()
            except pdfium.PdfiumError:
                failed_pages.append(number + 1)
                continue
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
            text = _DOT_LEADER.sub(" … ", text)
            doc.add(text, page=number + 1)
    finally:
        pdf.close()
    if failed_pages:
        doc.warnings.append(f"pages {', '.join(map(str, failed_pages))} could not be read")
    if not doc.text.strip():
        raise UnreadableFileError(
            "the PDF has no extractable text (a scan? run OCR on it first, e.g. ocrmypdf)"
        )
    return doc
