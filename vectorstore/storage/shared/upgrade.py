"""Moving a shared base from record format 1 to format 2, in place, by its next writer.

Format 1 named a base's collections `kb-NAME-...-v1`, where one base's name could spell another
base's internals (storage.shared.names). Format 2 names them `kb.NAME....`. The move renames
the collections (Chroma keeps their ids, so caches of the record and readers that have them open
carry on), marks the record as format 2, and leaves under the record's old name a marker of
format 2: versions from before this one find it and say that a newer version wrote the base,
instead of creating a second base of the same name.

It runs while the writer holds the base's format-1 lease (no writer of an earlier version is
writing), and each step can be repeated: a move interrupted half way is finished by the next one.
"""

from __future__ import annotations

from ...errors import ChromaConnectionError
from .names import RECORD_FORMAT, Layout
from .record import Record, get_collection, mark_format_1_name


def upgrade_layout(record: Record) -> None:
    """Rename a format-1 base's collections to format 2 (the caller holds its format-1 lease)."""
    old, new = record.layout, Layout(record.name)
    if old.format >= RECORD_FORMAT:
        return
    client, url = record.client, record.url
    for index in ("", "en"):
        moving = get_collection(client, old.vectors(index), url)
        # A format-1 vectors name may be another base's: only this base's own ("kb" says whose).
        if moving is not None and (moving.metadata or {}).get("kb") == record.name:
            if get_collection(client, new.vectors(index), url) is None:
                _rename(moving, new.vectors(index), url)
    settings = {**(record.collection.metadata or {}), "format": str(RECORD_FORMAT)}
    try:
        record.collection.modify(name=new.record, metadata=settings)
    except Exception as exc:
        raise ChromaConnectionError(
            f"Chroma server at {url} failed while upgrading '{record.name}': {exc}"
        ) from exc
    record.collection = get_collection(client, new.record, url) or record.collection
    record.layout = new
    mark_format_1_name(client, record.name, new)


def is_moved_marker(metadata: dict | None) -> bool:
    """Whether a format-1 record name holds the marker a move leaves behind."""
    return bool(metadata) and "moved_to" in metadata  # type: ignore[operator]


def _rename(collection, name: str, url: str) -> None:
    try:
        collection.modify(name=name)
    except Exception as exc:
        raise ChromaConnectionError(
            f"Chroma server at {url} failed renaming {collection.name}: {exc}"
        ) from exc
