"""What every format reader returns: the document's text, split into located sections."""

from __future__ import annotations

from dataclasses import dataclass, field


class UnreadableFileError(ValueError):
    """A file cannot be read as its format; the message is one line saying why and what to do."""


class NothingToIndexError(UnreadableFileError):
    """A readable file holds no text (a photo without words): skipped with this reason, not failed."""


@dataclass(frozen=True)
class Section:
    """A span of `ParsedDocument.text` that lies on one page and under one heading path."""

    start: int
    end: int
    heading: str = ""  # "Chapter 1 > Background", or "" when there is none
    page: int | None = None  # 1-based page number, for paged formats
    ocr: bool = False  # the text was read from pixels


@dataclass
class ParsedDocument:
    title: str
    text: str = ""
    sections: list[Section] = field(default_factory=list)
    #: Things the user should know although the file was read (e.g. replaced bytes).
    warnings: list[str] = field(default_factory=list)
    #: Pages (or images) whose text was read by OCR, and scanned pages left for the next pass
    #: over the file (see ingest.ocr).
    ocr_pages: int = 0
    ocr_pending: int = 0

    def add(self, text: str, *, heading: str = "", page: int | None = None, ocr: bool = False) -> None:
        """Append a block as its own section; blocks are separated by a blank line."""
        text = text.strip("\n")
        if not text.strip():
            return
        if self.text:
            self.text += "\n\n"
        start = len(self.text)
        self.text += text
        self.sections.append(Section(start, len(self.text), heading, page, ocr))
