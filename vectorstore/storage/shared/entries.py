"""The entries of a shared base's record, read as untrusted input.

Anyone who can reach the Chroma server can write anything into a record, with any client. So
every field of every entry this machine reads is checked here, before it reaches the cache, a
writer or the user's screen: a bad entry raises `BadEntry` with a one-line reason and costs that
entry alone (the cache skips it and names it in `kb stats`), never the base.

Sizes are bounded where they are read, so a hostile entry cannot make a reader or a writer do
unbounded work: a chunk's text (`MAX_CHUNK_CHARS`, what the largest chunk setting can produce),
its metadata, a file's list of chunk ids, sequence numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from ...lexical import MAX_CHUNK_CHARS, FileRecord, StoredChunk

#: Sequence numbers above this are not ones a writer stamped (a head this far ahead is malformed).
MAX_SEQ = 2**53
MAX_PATH_CHARS = 4096
MAX_ID_CHARS = 256
#: Chunk ids one file entry may claim (a 100 MB file in 270-character chunks has ~125,000).
MAX_CHUNKS_PER_FILE = 200_000
MAX_META_CHARS = 64_000
#: Search tokens longer than this are ignored and computed again from the text.
MAX_TOKENS_CHARS = 8 * MAX_CHUNK_CHARS
_TITLE_CHARS = 1000
_KIND_CHARS = 64
_HASH_CHARS = 128

# C0/C1 controls, and the bidirectional overrides and isolates that reorder what a terminal shows.
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class BadEntry(ValueError):
    """An entry of the record failed validation; the message says which field and why."""


def shown(value: object, limit: int = 160) -> str:
    """Text from the server made safe to show: control and bidirectional characters removed,
    cut to `limit` characters."""
    text = _UNSHOWABLE.sub("", str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def file_id(path: str) -> str:
    return "f:" + hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()[:40]


@dataclass(frozen=True)
class FileEntry:
    """A file entry of the record: a file of the base (or its tombstone, `deleted`)."""

    path: str
    seq: int
    deleted: bool
    record: FileRecord | None = None
    ingested_at: float = 0.0


@dataclass(frozen=True)
class ChunkEntry:
    id: str
    path: str
    seq: int
    embedded: bool
    chunk: StoredChunk


def seq_of(meta: dict[str, Any]) -> int:
    """An entry's sequence number (BadEntry unless it is one a writer could have stamped)."""
    seq = meta.get("seq")
    if type(seq) is not int or not 0 <= seq <= MAX_SEQ:
        raise BadEntry(f"its sequence number {shown(seq, 40)!r} is not a whole number from 0 to 2^53")
    return seq


def file_entry(entry_id: str, meta: dict[str, Any]) -> FileEntry:
    """The file entry `entry_id` (BadEntry if any field is missing, mistyped or out of range)."""
    path = _path(meta.get("path"))
    if entry_id != file_id(path):
        raise BadEntry("its id does not match its path")
    seq = seq_of(meta)
    deleted = _flag(meta, "deleted", default=False)
    if deleted:
        return FileEntry(path, seq, True)
    ids = _chunk_ids(meta.get("chunk_ids"))
    record = FileRecord(
        path=path,
        content_hash=_text(meta, "content_hash", _HASH_CHARS, empty=False),
        size=_whole(meta, "size"),
        mtime_ns=0,
        title=_clip(meta.get("title"), _TITLE_CHARS),
        kind=_clip(meta.get("kind"), _KIND_CHARS),
        chunk_ids=ids,
    )
    return FileEntry(path, seq, False, record, _time(meta, "ingested_at"))


def chunk_entry(entry_id: str, meta: dict[str, Any], text: object, tokenizer: str) -> ChunkEntry:
    """The chunk entry `entry_id` (`c:` and the chunk's id), its text `text`; search tokens are
    kept only when made by `tokenizer` (else computed again from the text)."""
    chunk_id = _id(entry_id[2:] if entry_id.startswith("c:") else "")
    path = _path(meta.get("path"))
    seq = seq_of(meta)
    embedded = _flag(meta, "embedded")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise BadEntry("its text is not a string")
    if len(text) > MAX_CHUNK_CHARS:
        raise BadEntry(
            f"its text has {len(text):,} characters, more than a chunk can have ({MAX_CHUNK_CHARS:,})"
        )
    metadata = _json_object(meta.get("meta", "{}"))
    embed_hash = _text(meta, "embed_hash", _HASH_CHARS, empty=True)
    tokens = meta.get("tokens")
    if meta.get("tokenizer") != tokenizer or not isinstance(tokens, str) or len(tokens) > MAX_TOKENS_CHARS:
        tokens = None
    chunk = StoredChunk(chunk_id, text, metadata, embed_hash, tokens)
    return ChunkEntry(chunk_id, path, seq, embedded, chunk)


def _path(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_PATH_CHARS:
        raise BadEntry(f"its path is not a string of 1 to {MAX_PATH_CHARS} characters")
    if "\x00" in value or value.startswith("/") or ".." in value.split("/"):
        raise BadEntry(f"its path {shown(value)!r} is not SOURCE/path inside a folder")
    return value


def _id(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS or _UNSHOWABLE.search(value):
        raise BadEntry(f"chunk id {shown(value, 60)!r} is not 1 to {MAX_ID_CHARS} printable characters")
    return value


def _chunk_ids(value: object) -> tuple[str, ...]:
    if not isinstance(value, str) or len(value) > MAX_CHUNKS_PER_FILE * (MAX_ID_CHARS + 4):
        raise BadEntry("its chunk_ids is not a JSON list of chunk ids")
    try:
        ids = json.loads(value)
    except (ValueError, RecursionError):
        raise BadEntry("its chunk_ids is not valid JSON") from None
    if not isinstance(ids, list) or len(ids) > MAX_CHUNKS_PER_FILE:
        raise BadEntry(f"its chunk_ids is not a JSON list of at most {MAX_CHUNKS_PER_FILE:,} chunk ids")
    checked = tuple(_id(i) for i in ids)
    if len(set(checked)) != len(checked):
        raise BadEntry("its chunk_ids lists a chunk twice")
    return checked


def _json_object(value: object) -> dict[str, Any]:
    if not isinstance(value, str) or len(value) > MAX_META_CHARS:
        raise BadEntry(f"its meta is not a JSON object of at most {MAX_META_CHARS:,} characters")
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        raise BadEntry("its meta is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise BadEntry("its meta is not a JSON object")
    return parsed


def _text(meta: dict[str, Any], key: str, limit: int, *, empty: bool) -> str:
    value = meta.get(key)
    if not isinstance(value, str) or len(value) > limit or (not empty and not value):
        raise BadEntry(f"its {key} is not a string of {0 if empty else 1} to {limit} characters")
    return value


def _clip(value: object, limit: int) -> str:
    # Shown, never trusted: kept as text, cut to a sane length.
    return shown(value, limit) if isinstance(value, str) else ""


def _whole(meta: dict[str, Any], key: str) -> int:
    value = meta.get(key)
    if type(value) is not int or not 0 <= value <= MAX_SEQ:
        raise BadEntry(f"its {key} {shown(value, 40)!r} is not a whole number from 0 to 2^53")
    return value


def _time(meta: dict[str, Any], key: str) -> float:
    value = meta.get(key)
    if type(value) not in (int, float) or not math.isfinite(value) or not 0 <= value < 1e11:
        raise BadEntry(f"its {key} {shown(value, 40)!r} is not a time")
    return float(value)


def _flag(meta: dict[str, Any], key: str, default: bool | None = None) -> bool:
    value = meta.get(key, default)
    if not isinstance(value, bool):
        raise BadEntry(f"its {key} {shown(value, 40)!r} is not true or false")
    return value
