"""Renders ranked sources as ripgrep renders matches: for each source, its label and where it is
(the path relative to the folder it was ingested from, with the page or heading; a web page's
URL), then its best sentences with the query's words highlighted. Best first; no score (the
fused score means nothing on its own: `--json` has it for scripts)."""

from __future__ import annotations

from pathlib import PurePosixPath

from rich.console import Console
from rich.text import Text

from ...excerpts import Excerpt, best_sentences
from ...retrieval import Source
from .terminal_text import plain, styled

#: How a match looks (ripgrep's default colour for matches is bold red).
MATCH_STYLE = "bold red"
INDENT = 4


def print_sources(console: Console, sources: list[Source], query: str) -> None:
    if not sources:
        console.print("no sources found", highlight=False)
        return
    for number, source in enumerate(sources):
        if number:
            console.print()
        console.print(_heading(source), highlight=False)
        title = _title_line(source)
        lines = [styled((title, "italic"))] if title else []
        lines += [_excerpt_line(e) for e in best_sentences(plain(source.text), query)]
        for line in lines:
            _print_indented(console, line)


def _heading(s: Source) -> Text:
    """`K1  docs/zh/数据安全法.md › 第四章` or `W1  https://example.org/page`, and its marks."""
    where = s.uri or s.location if s.kind == "web" else s.path or s.uri or s.location
    detail = ""
    if s.kind == "kb":
        if s.page:
            detail = f" p. {s.page}"
        elif s.heading:
            detail = " › " + s.heading.replace(" > ", " › ")
    marks: list[tuple[str, str]] = []
    if s.extra.get("ocr"):
        marks.append(("  read by OCR", "dim"))
    if s.extra.get("snippet_only"):
        marks.append(("  search snippet only", "dim"))
    if s.extra.get("suspicious"):
        marks.append(("  ⚠ instructions?", "red"))
    return styled((s.label, "bold"), "  ", (where, "magenta"), (detail, "cyan"), *marks)


def _title_line(s: Source) -> str:
    """The title, unless the heading line already says it (the file's name, or the first
    heading)."""
    title = " ".join(plain(s.title).split())
    if not title or s.kind != "kb":
        return title
    name = PurePosixPath((s.path or s.uri).replace("\\", "/")).stem
    first_heading = s.heading.split(" > ")[0].strip() if s.heading else ""
    return "" if title.casefold() in (name.casefold(), first_heading.casefold()) else title


def _excerpt_line(excerpt: Excerpt) -> Text:
    line = Text("…" if excerpt.cut_before else "")
    offset = len(line)
    line.append(excerpt.text)
    for start, end in excerpt.matches:
        line.stylize(MATCH_STYLE, offset + start, offset + end)
    if excerpt.cut_after:
        line.append("…")
    return line


def _print_indented(console: Console, line: Text) -> None:
    """`line` wrapped to the console's width, every piece indented (no trailing spaces)."""
    for piece in line.wrap(console, max(20, console.width - INDENT)):
        piece.rstrip()
        console.print(Text(" " * INDENT) + piece, highlight=False, soft_wrap=True)
