"""One set of sources: knowledge-base chunks and web passages, ranked together and citable."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SourceKind = Literal["kb", "web"]


@dataclass
class Source:
    """A passage handed to the model, with what a citation needs.

    `label` is the stable citation label: K1, K2... for knowledge-base hits and W1, W2... for web
    hits, numbered in rank order within each kind.
    """

    kind: SourceKind
    title: str
    #: File path (with page or heading) or URL, for the user to open.
    location: str
    text: str
    score: float
    chunk_id: str
    label: str = ""
    #: The file path or URL alone.
    uri: str = ""
    page: int | None = None
    heading: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """All fields; `extra` holds flags such as web passages' `suspicious` and `snippet_only`."""
        return asdict(self)


def assign_labels(sources: list[Source]) -> list[Source]:
    """Number sources per kind in their current (rank) order: K1, K2..., W1, W2..."""
    counters = {"kb": 0, "web": 0}
    for source in sources:
        counters[source.kind] += 1
        source.label = ("K" if source.kind == "kb" else "W") + str(counters[source.kind])
    return sources


def kb_location(metadata: dict[str, Any]) -> str:
    """`path, p. 3` or `path › Heading › Sub` for a knowledge-base chunk."""
    location = str(metadata.get("source", ""))
    if metadata.get("page"):
        location += f", p. {metadata['page']}"
    elif metadata.get("heading"):
        location += " › " + str(metadata["heading"]).replace(" > ", " › ")
    return location
