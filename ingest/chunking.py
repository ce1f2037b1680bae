"""Chunking that respects structure and language.

A document arrives as sections (a page, or the text under one heading path). Small neighbouring
sections on the same page are packed whole into one chunk. A Markdown table is a piece of its
own, never cut inside a row, its header row repeated at the top of each chunk it spans. A
section too large for one chunk is split with LangChain's RecursiveCharacterTextSplitter at the
best boundary available: paragraph, line, sentence end (Chinese 。！？；… as well as English
. ! ?), clause, then word.

Sizes are in *weighted characters*: a CJK character counts CJK_WEIGHT, anything else 1. In the
multilingual-e5 tokenizer (the default embedder's) a CJK character costs 0.81 tokens and an
English character 0.26 (measured on ../shared/data: `python benchmarks/chunk_weight.py`), so one
Chinese character weighs about as much as 3 English ones. With the defaults (800, overlap 120) an
English chunk is ~800 characters (~210 tokens) and a Chinese one ~270 characters (~215 tokens):
similar meaning per chunk, inside the 512-token window of the embedders, and small enough that
several fit in a 4k-token model context.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, replace
from typing import Any

from vectorstore.text import CJK_RE

from .formats import ParsedDocument, Section
from .formats.tables import TABLE_RE

CJK_WEIGHT = 3
DEFAULT_CHUNK_SIZE = 800
DEFAULT_CHUNK_OVERLAP = 120

SEPARATORS = [
    r"\n\n+",
    r"\n",
    r"(?<=[。！？；…])",  # Chinese sentence ends need no following space
    r"(?<=[.!?;])\s+",
    r"(?<=[，、：,:])",
    r"\s+",
    "",
]


def weighted_len(text: str) -> int:
    cjk = len(CJK_RE.findall(text))
    return int(len(text) + (CJK_WEIGHT - 1) * cjk)


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    #: Text handed to the embedder: the chunk with its title and heading path in front.
    embed_text: str
    metadata: dict[str, Any]


class Chunker:
    def __init__(
        self, chunk_size: int = DEFAULT_CHUNK_SIZE, chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    ) -> None:
        if chunk_overlap >= chunk_size:
            raise ValueError(f"chunk_overlap ({chunk_overlap}) must be below chunk_size ({chunk_size})")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap

    @functools.cached_property
    def _splitter(self):
        # Loaded on first split (a third of a second): `import ingest` stays quick, so that a
        # front-end starts the readers' server (ingest.workers.start_readers) without waiting.
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        return RecursiveCharacterTextSplitter(
            separators=SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",
            chunk_size=self.chunk_size,
            chunk_overlap=self.chunk_overlap,
            length_function=weighted_len,
            strip_whitespace=True,
        )

    def spans(self, doc: ParsedDocument) -> list[tuple[int, int, list[Section], str]]:
        """(start, end, sections, prefix) of each chunk, as offsets into `doc.text`; `prefix` is
        text the chunk starts with that is not at that place in the document (a table's header
        row, repeated in each chunk the table spans)."""
        out: list[tuple[int, int, list[Section], str]] = []
        group: list[Section] = []

        def close_group() -> None:
            if group:
                out.append((group[0].start, group[-1].end, list(group), ""))
                group.clear()

        for section in (piece for s in doc.sections for piece in _table_pieces(doc.text, s)):
            size = weighted_len(doc.text[section.start : section.end])
            if size > self.chunk_size:
                close_group()
                if TABLE_RE.fullmatch(doc.text, section.start, section.end):
                    out.extend((s, e, [section], p) for s, e, p in self._split_table(doc.text, section))
                else:
                    out.extend((s, e, [section], "") for s, e in self._split(doc.text, section))
                continue
            if group and (
                group[-1].page != section.page
                or weighted_len(doc.text[group[0].start : section.end]) > self.chunk_size
            ):
                close_group()
            group.append(section)
        close_group()
        return out

    def _split_table(self, text: str, table: Section) -> list[tuple[int, int, str]]:
        """A Markdown table too big for one chunk, cut between rows; every piece after the first
        starts with the header row and separator again. A single row too big for a chunk is
        still kept whole: a row cut in two answers nothing."""
        lines = text[table.start : table.end].split("\n")
        header = "\n".join(lines[:2]) + "\n"
        header_size = weighted_len(header)
        pieces: list[tuple[int, int, str]] = []
        start, size = table.start, header_size
        first_row = offset = table.start + len(header)
        for line in lines[2:]:
            cost = weighted_len(line) + 1
            if size + cost > self.chunk_size and offset > max(start, first_row):
                pieces.append((start, offset - 1, header if pieces else ""))
                start, size = offset, header_size
            size += cost
            offset += len(line) + 1
        pieces.append((start, table.end, header if pieces else ""))
        return pieces

    def _split(self, text: str, section: Section) -> list[tuple[int, int]]:
        body = text[section.start : section.end]
        spans: list[tuple[int, int]] = []
        cursor = 0
        carry: int | None = None  # start of a heading line waiting for its text
        for piece in self._splitter.split_text(body):
            found = body.find(piece, cursor)
            if found < 0:  # cannot happen with strip-only normalisation; be safe
                found = body.find(piece)
            if found < 0:
                continue
            cursor = found + 1
            if _HEADING_ONLY.match(piece):
                carry = found if carry is None else carry
                continue
            start = carry if carry is not None and found - carry < 200 else found
            carry = None
            spans.append((section.start + start, section.start + found + len(piece)))
        return spans

    def chunk(self, doc: ParsedDocument, *, source: str, content_hash: str, kind: str) -> list[Chunk]:
        """Chunks of `doc` with deterministic ids and the metadata a citation needs."""
        path_key = hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]
        chunks = []
        for index, (start, end, sections, prefix) in enumerate(self.spans(doc)):
            text = prefix + doc.text[start:end].strip()
            if not text:
                continue
            headings = list(dict.fromkeys(s.heading for s in sections if s.heading))
            heading = " | ".join(headings)
            if len(heading) > 300:
                heading = heading[:299] + "…"
            metadata: dict[str, Any] = {
                "source": source,
                "title": doc.title,
                "heading": heading,
                "start": start,
                "end": end,
                "content_hash": content_hash,
                "chunk_index": index,
                "kind": kind,
            }
            if sections[0].page is not None:
                metadata["page"] = sections[0].page
            if any(s.ocr for s in sections):
                metadata["ocr"] = True  # read from pixels: counted by `kb stats`
            chunks.append(
                Chunk(
                    id=f"{path_key}:{content_hash[:12]}:{index:05d}",
                    text=text,
                    embed_text=with_context(doc.title, heading, text),
                    metadata=metadata,
                )
            )
        return chunks


_HEADING_ONLY = re.compile(r"^(?:#{1,6} [^\n]*\n*)+$")


def _table_pieces(text: str, section: Section) -> list[Section]:
    """`section` cut around the Markdown tables in it: text, table, text..., so that a table
    is packed or split as a whole (Chunker._split_table)."""
    pieces, cursor = [], section.start
    for match in TABLE_RE.finditer(text, section.start, section.end):
        end = match.end() - (1 if text[match.end() - 1 : match.end()] == "\n" else 0)
        if match.start() > cursor and text[cursor : match.start()].strip():
            pieces.append(replace(section, start=cursor, end=match.start()))
        pieces.append(replace(section, start=match.start(), end=end))
        cursor = match.end()
    if not pieces:
        return [section]
    if text[cursor : section.end].strip():
        pieces.append(replace(section, start=cursor, end=section.end))
    return pieces


def with_context(title: str, heading: str, text: str) -> str:
    """The text a chunk is embedded from: its title and heading path, when the text lacks them."""
    # Contextual chunk header: a chunk deep inside a document rarely names what it is about.
    if title and heading.startswith(title):
        title = ""  # the heading path already starts with the document title
    context = [p for p in (title, heading) if p and p not in text[:200]]
    if not context:
        return text
    return " > ".join(context) + "\n" + text
