"""HTML: trafilatura extracts the main text (no menus, footers, ads) as Markdown, keeping headings."""

from __future__ import annotations

import re
from pathlib import Path

from .base import ParsedDocument, UnreadableFileError
from .markdown import markdown_to_document
from .text import decode_or_fail


def html_to_document(html: str, fallback_title: str, warnings: list[str] | None = None) -> ParsedDocument:
    import trafilatura

    markdown = trafilatura.extract(
        html,
        output_format="markdown",
        include_tables=True,
        include_formatting=True,
        include_comments=False,
        favor_recall=True,
    )
    if markdown:
        markdown = _tidy(markdown)
    if not markdown:
        # Very short pages fall below trafilatura's thresholds: take all visible text instead.
        markdown = _visible_text(html)
    if not markdown or not markdown.strip():
        raise UnreadableFileError("the page has no readable text")
    metadata = trafilatura.extract_metadata(html)
    title = (metadata.title if metadata and metadata.title else "") or fallback_title
    doc = markdown_to_document(markdown, title, warnings)
    doc.title = title  # the page's <title> beats its first heading
    return doc


_INLINE_TAGS = re.compile(r"</?(?:sup|sub|span|small|abbr|cite)\b[^>]*>")
_FOOTNOTE_REF = re.compile(r"\\?\[(?:\d+|[a-z]|citation needed|note \d+)\\?\]")


def _tidy(markdown: str) -> str:
    # trafilatura leaves inline tags and escaped footnote markers ("\\[1\\]") in its Markdown.
    return _FOOTNOTE_REF.sub("", _INLINE_TAGS.sub("", markdown))


def _visible_text(html: str) -> str:
    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except Exception:  # lxml raises ParserError/ValueError on empty or odd input
        return ""
    for bad in tree.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    return "\n".join(line.strip() for line in tree.text_content().splitlines() if line.strip())


def parse_html(path: Path, data: bytes) -> ParsedDocument:
    text, warnings = decode_or_fail(data)
    return html_to_document(text, path.stem, warnings)
