"""One stored passage of a knowledge base read back by its chunk id, with its neighbours.

A search hands out chunk ids; they are deterministic (the file's path, its content hash and the
chunk's position), so an id stays valid while its file is unchanged and names nothing once the
file changes or leaves the base: a caller then searches again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vectorstore import KnowledgeBase


@dataclass(frozen=True)
class StoredPassage:
    chunk_id: str
    text: str
    #: What ingest recorded: source (the file's key), title, heading, page, span, chunk index.
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PassageInContext:
    passage: StoredPassage
    #: The passage's place in its document, 1-based, and how many passages the document has.
    position: int
    count: int
    #: Up to `context` passages of the same document right before and right after it, in order.
    before: list[StoredPassage] = field(default_factory=list)
    after: list[StoredPassage] = field(default_factory=list)


def passage_in_context(kb: KnowledgeBase, chunk_id: str, context: int = 0) -> PassageInContext | None:
    """The passage `chunk_id` of `kb` in full, with `context` neighbours on each side; None if the
    base holds no such passage (never ingested, or its file changed or was removed since)."""
    found = _read(kb, [chunk_id])
    if not found:
        return None
    passage = found[0]
    source = str(passage.metadata.get("source", ""))
    record = kb.files(under=source).get(source)
    order = list(record.chunk_ids) if record is not None else []
    if chunk_id not in order:  # a manifest without it (a cache catching up): the passage alone
        return PassageInContext(passage, 1, 1)
    at = order.index(chunk_id)
    before = _read(kb, order[max(0, at - context) : at]) if context else []
    after = _read(kb, order[at + 1 : at + 1 + context]) if context else []
    return PassageInContext(passage, at + 1, len(order), before, after)


def _read(kb: KnowledgeBase, ids: list[str]) -> list[StoredPassage]:
    return [StoredPassage(c.id, c.text, dict(c.metadata)) for c in kb.chunks(ids)]
