"""Format readers, chosen by file extension; each turns bytes into a `ParsedDocument`.

Adding a format is adding a module and a line in READERS.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..ocr import OcrOptions
from .base import NothingToIndexError, ParsedDocument, Section, UnreadableFileError
from .docx import parse_docx
from .epub import parse_epub
from .html import html_to_document, parse_html
from .image import IMAGE_EXTENSIONS, parse_image
from .markdown import parse_markdown
from .pdf import parse_pdf
from .structured import parse_csv, parse_json
from .text import decode_or_fail, parse_text

Reader = Callable[[Path, bytes], ParsedDocument]

CODE_EXTENSIONS = frozenset(
    """.py .pyi .js .mjs .cjs .ts .tsx .jsx .java .kt .kts .scala .go .rs .c .h .cc .cpp .cxx
    .hpp .hh .cs .swift .m .mm .rb .php .pl .lua .r .jl .sh .bash .zsh .fish .ps1 .sql .css
    .scss .less .vue .svelte .dart .ex .exs .erl .hs .ml .clj .el .vim .yaml .yml .toml .ini
    .cfg .conf .xml .proto .graphql .tf .gradle .cmake .mk .dockerfile""".split()
)
TEXT_EXTENSIONS = frozenset(".txt .text .rst .log .tex .org .adoc .asciidoc .srt .vtt".split())

READERS: dict[str, Reader] = {
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".mdx": parse_markdown,
    ".html": parse_html,
    ".htm": parse_html,
    ".xhtml": parse_html,
    ".pdf": parse_pdf,
    ".docx": parse_docx,
    ".epub": parse_epub,
    ".json": parse_json,
    ".jsonl": parse_json,
    ".csv": parse_csv,
    ".tsv": parse_csv,
    **{ext: parse_text for ext in TEXT_EXTENSIONS | CODE_EXTENSIONS},
    **{ext: parse_image for ext in IMAGE_EXTENSIONS},
}

#: Readers that take OCR options (they may read pixels).
_OCR_READERS = frozenset({parse_pdf, parse_image})

#: Extensions of files that are never documents: skipped quietly, not reported as failures.
MEDIA_EXTENSIONS = frozenset(
    """.gif .svg .ico .heic .mp3 .wav .flac .ogg .m4a
    .mp4 .mkv .mov .avi .webm .zip .gz .tgz .bz2 .xz .7z .rar .tar .exe .dll .so .dylib .o .a
    .class .jar .pyc .whl .iso .dmg .ttf .otf .woff .woff2 .db .sqlite .sqlite3 .lock""".split()
)


def kind_of(path: Path) -> str | None:
    """The reader key for `path`: its extension if known, "" to sniff for text, None to skip."""
    ext = path.suffix.lower()
    if path.name.lower() in ("dockerfile", "makefile", "readme", "license", "changelog"):
        return ".txt"
    if ext in READERS:
        return ext
    if ext in MEDIA_EXTENSIONS:
        return None
    return ""


def parse(path: Path, data: bytes, ocr: OcrOptions | None = None) -> tuple[str, ParsedDocument]:
    """Read `data` (the bytes of `path`) into a document; returns (kind, document).

    `ocr` says whether and how scanned pages and images are read (default: on, no cache).
    Raises UnreadableFileError with a one-line reason (NothingToIndexError for a readable file
    without text). A file whose content contradicts its extension (a text file named .pdf) is
    read as what it is, with a warning.
    """
    if not data:
        raise UnreadableFileError("empty file (0 bytes), nothing to index")
    kind = kind_of(path) or ""
    if kind == "":
        return "text", parse_text(path, data)
    try:
        reader = READERS[kind]
        doc = reader(path, data, ocr) if reader in _OCR_READERS else reader(path, data)
        return reader.__name__.removeprefix("parse_"), doc
    except UnreadableFileError:
        if kind in _SIGNATURES and not data.lstrip().startswith(_SIGNATURES[kind]):
            # A mislabelled text file is still worth indexing; anything else keeps its error.
            try:
                doc = parse_text(path, data)
            except UnreadableFileError:
                pass
            else:
                if _is_plausible_text(doc.text):
                    doc.warnings.append(f"not really a {kind} file: read as plain text")
                    return "text", doc
        raise


# How files of these formats begin. A file that does begin so is what its name says, however
# broken: an encrypted or textless PDF is mostly ASCII syntax, not a document to index as text.
_SIGNATURES = {
    ".pdf": (b"%PDF",),
    ".docx": (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"),
    ".epub": (b"PK\x03\x04",),
    ".png": (b"\x89PNG",),
    ".jpg": (b"\xff\xd8",),
    ".jpeg": (b"\xff\xd8",),
    ".bmp": (b"BM",),
    ".tif": (b"II*\x00", b"MM\x00*"),
    ".tiff": (b"II*\x00", b"MM\x00*"),
    ".webp": (b"RIFF",),
}


def _is_plausible_text(text: str) -> bool:
    printable = sum(ch.isprintable() or ch in "\n\t" for ch in text)
    return bool(text.strip()) and printable / len(text) > 0.97 and "\ufffd" not in text


__all__ = [
    "NothingToIndexError",
    "OcrOptions",
    "ParsedDocument",
    "READERS",
    "Section",
    "UnreadableFileError",
    "decode_or_fail",
    "html_to_document",
    "kind_of",
    "parse",
]
