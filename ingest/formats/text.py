"""Plain text, reStructuredText, source code, and text files with unknown extensions."""

from __future__ import annotations

from pathlib import Path

from vectorstore.plurals import counted

from ..encoding import NotTextError, decode_text
from .base import ParsedDocument, UnreadableFileError


def decode_or_fail(data: bytes) -> tuple[str, list[str]]:
    try:
        decoded = decode_text(data)
    except NotTextError as exc:
        raise UnreadableFileError(f"{exc}; not a supported document type") from None
    warnings = []
    if decoded.replaced:
        warnings.append(
            f"{counted(decoded.replaced, 'invalid byte')} for {decoded.encoding} replaced with U+FFFD"
        )
    return decoded.text.replace("\r\n", "\n").replace("\r", "\n"), warnings


def parse_text(path: Path, data: bytes) -> ParsedDocument:
    text, warnings = decode_or_fail(data)
    doc = ParsedDocument(title=path.stem, warnings=warnings)
    doc.add(text)
    return doc
