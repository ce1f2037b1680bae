"""The names of a shared base's collections on a Chroma server.

Record format 2 (this version), for base NAME:

    kb.NAME.vectors     the vectors, with the chunk texts
    kb.NAME.vectors-en  the English index's vectors, when the base has one
    kb.NAME.record      the record: settings, manifest, chunks, sources (storage.shared.record)
    kb.NAME.lease.G     the writers' lease, generation G (storage.shared.lease)

A base's name holds letters, digits, '-' and '_', never a '.', so it is exactly what stands
between the first two dots: no base's name can spell another base's collection (`team-record`
is `kb.team-record.vectors`, never the record of `team`).

Record format 1 (earlier versions) joined names with '-' (`kb-NAME-v1`, `kb-NAME-en-v1`,
`kb-NAME-record-v1`, `kb-NAME-lease-G-v1`), where one base's name could spell another's
internals. Such a base is read where it is and moved to format 2 by its next writer
(storage.shared.upgrade); `Layout` gives either format's names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The record format this version writes; `Record` refuses a record of a higher one.
RECORD_FORMAT = 2

_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}"
_RECORD = re.compile(rf"^kb\.({_NAME})\.record$")
_LEGACY_RECORD = re.compile(rf"^kb-({_NAME})-record-v1$")
# Generations beyond 18 digits are not ones a writer made (the next name would not fit Chroma).
_GENERATION = r"([0-9]{1,18})"


@dataclass(frozen=True)
class Layout:
    """The collection names of base `name` in record format `format` (1 or 2)."""

    name: str
    format: int = RECORD_FORMAT

    @property
    def record(self) -> str:
        return f"kb.{self.name}.record" if self.format >= 2 else f"kb-{self.name}-record-v1"

    def vectors(self, index: str = "") -> str:
        if self.format >= 2:
            return f"kb.{self.name}.vectors-{index}" if index else f"kb.{self.name}.vectors"
        return f"kb-{self.name}-{index}-v1" if index else f"kb-{self.name}-v1"

    def lease(self, generation: int) -> str:
        if self.format >= 2:
            return f"kb.{self.name}.lease.{generation}"
        return f"kb-{self.name}-lease-{generation}-v1"

    def lease_generation(self, collection: str) -> int | None:
        """The generation of this base's lease that `collection` names (None: not one)."""
        if self.format >= 2:
            pattern = rf"^kb\.{re.escape(self.name)}\.lease\.{_GENERATION}$"
        else:
            pattern = rf"^kb-{re.escape(self.name)}-lease-{_GENERATION}-v1$"
        found = re.match(pattern, collection)
        return int(found.group(1)) if found else None


def base_of_record(collection: str) -> tuple[str, int] | None:
    """(base name, record format) if `collection` is named like a record, else None. A format-1
    name is ambiguous (`kb-a-record-v1` may be base `a-record`'s vectors): the caller checks the
    collection's metadata."""
    for pattern, record_format in ((_RECORD, 2), (_LEGACY_RECORD, 1)):
        found = pattern.match(collection)
        if found:
            return found.group(1), record_format
    return None
