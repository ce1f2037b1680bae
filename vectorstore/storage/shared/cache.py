"""This machine's cache of a shared base's record: how it catches up with the server.

The cache is a LexicalIndex (the same SQLite layout as a local base) whose `server_seq` meta is
the record's head it has caught up to. `refresh` fetches the entries stamped since, checks them
(storage.shared.entries) and applies the good ones; a bad entry costs that entry (and a file
whose chunks are bad, that file), and is listed in the cache's `skipped` table for `kb stats`.

A cache is only a cache: one that is ahead of its server (the server was restored from an older
copy) is emptied and built again from the record.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from ...lexical import LexicalIndex, StoredChunk
from ...plurals import counted
from .entries import BadEntry, ChunkEntry, FileEntry, file_id, shown
from .record import Changes, Record

#: Chunk entries one refresh may fetch beyond the window it reads (a file entry of a healthy
#: record never needs any: its chunks are stamped before it).
_MISSING_LIMIT = 5000
_HEAD_ENTRY = "@head"


def cached_head(index: LexicalIndex) -> int:
    """The record's head this cache has caught up to."""
    value = index.get_meta("server_seq") or "0"
    return int(value) if value.isdigit() else 0


def refresh(record: Record, index: LexicalIndex) -> int:
    """Bring the cache `index` up to date with `record`; returns how many files changed.

    Idempotent: a refresh interrupted part way is completed by the next one.
    """
    since = cached_head(index)
    head = record.head()
    if head is None:
        # No writer stamped it: read up to the newest entry instead (the next writer repairs it).
        index.skip(_HEAD_ENTRY, "", "the record's head is malformed; read up to its newest entry instead")
        head = record.newest(since)
    else:
        index.unskip(entry=_HEAD_ENTRY)
    if head < since:
        index.clear()  # ahead of its server: what it holds may no longer be there
        index.set_meta("server_seq", "0")
        since = 0
    if head == since:
        return 0
    changes = record.changes(since, head)
    _apply(record, index, changes)
    index.set_meta("server_seq", str(changes.head))
    return len(changes.files)


def _apply(record: Record, index: LexicalIndex, changes: Changes) -> None:
    budget = [_MISSING_LIMIT]
    ordered = sorted(changes.files.items(), key=lambda item: _seq(item[1]))
    for path, entry in ordered:
        if isinstance(entry, BadEntry) or entry.deleted:
            index.remove_file(path)  # a tombstone, or an entry whose content cannot be known
            if not isinstance(entry, BadEntry):
                index.unskip(path=path)
            continue
        try:
            _apply_file(record, index, changes, entry, budget)
        except BadEntry as exc:
            index.remove_file(path)
            index.skip(file_id(path), path, f"file entry: {exc}")
            continue
        index.unskip(path=path)
    for entry_id, path, reason in changes.bad:
        index.skip(entry_id, path, reason)
    # Chunks whose vectors were stored (or found missing) since: their flags alone changed (for
    # the chunk of the file the entry names, never another file's).
    index.set_embedded_where((c.id, c.path, c.embedded) for c in changes.chunks.values())


def _apply_file(
    record: Record, index: LexicalIndex, changes: Changes, entry: FileEntry, budget: list[int]
) -> None:
    assert entry.record is not None
    stored, embedded = _chunks_of(record, index, changes, entry, budget)
    old = index.file(entry.path)
    mtime = old.mtime_ns if old and old.content_hash == entry.record.content_hash else 0
    try:
        index.replace_file(replace(entry.record, mtime_ns=mtime), stored, entry.ingested_at, embedded)
    except sqlite3.IntegrityError:
        raise BadEntry("its chunk ids belong to another file") from None


def _chunks_of(
    record: Record, index: LexicalIndex, changes: Changes, entry: FileEntry, budget: list[int]
) -> tuple[list[StoredChunk], set[str]]:
    """The chunks of file `entry` and which of them have vectors; BadEntry if any is missing,
    malformed or another file's."""
    assert entry.record is not None
    ids = entry.record.chunk_ids
    local = {c.id: c for c in index.chunks(i for i in ids if i not in changes.chunks)}
    fetched: dict[str, ChunkEntry | BadEntry] = {}
    missing = [i for i in ids if i not in changes.chunks and i not in local]
    if missing:
        if len(missing) > budget[0]:
            verb = "is" if len(missing) == 1 else "are"
            raise BadEntry(f"it claims {counted(len(missing), 'chunk')} that {verb} not in the record")
        budget[0] -= len(missing)
        fetched = record.chunk_entries(missing)
    stored, embedded = [], set()
    for chunk_id in ids:
        found = changes.chunks.get(chunk_id) or fetched.get(chunk_id)
        if isinstance(found, BadEntry):
            raise BadEntry(f"its chunk {shown(chunk_id, 60)}: {found}")
        if found is None:
            if chunk_id not in local:
                raise BadEntry(f"its chunk {shown(chunk_id, 60)} is not in the record")
            stored.append(local[chunk_id])
            continue
        if found.path != entry.path:
            raise BadEntry(f"it claims chunk {shown(chunk_id, 60)} of another file ({shown(found.path)})")
        stored.append(found.chunk)
        if found.embedded:
            embedded.add(chunk_id)
    return stored, embedded


def _seq(entry: FileEntry | BadEntry) -> int:
    return entry.seq if isinstance(entry, FileEntry) else -1
