"""What every format reader returns: the document's text, split into located sections."""

from __future__ import annotations

from dataclasses import dataclass, field


class UnreadableFileError(ValueError):
    """A file cannot be read as its format; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class Section:
    """A span of `ParsedDocument.text` that lies on one page and under one heading path."""

    start: int
    end: int
    heading: str = ""  # "Chapter 1 > Background", or "" when there is none
    page: int | None = None  # 1-based page number, for paged formats


@dataclass
class ParsedDocument:
    title: str
    text: str = ""
    sections: list[Section] = field(default_factory=list)
    #: Things the user should know although the file was read (e.g. replaced bytes).
    warnings: list[str] = field(default_factory=list)

    def add(self, text: str, *, heading: str = "", page: int | None = None) -> None:
        """Append a block as its own section; blocks are separated by a blank line."""
        text = text.strip("\n")
        if not text.strip():
            return
        if self.text:
            self.text += "\n\n"
        start = len(self.text)
        self.text += text
        self.sections.append(Section(start, len(self.text), heading, page))
