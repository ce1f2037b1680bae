"""One set of sources: knowledge-base chunks and web passages, ranked together and citable."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
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
    #: A knowledge-base file's path as shown: relative to the folder it was ingested from, that
    #: folder's name first (`docs/zh/数据安全法.md`); empty for a web source.
    path: str = ""

    @property
    def citation(self) -> str:
        """What a citation shows: `contract.pdf p. 3` (the file's name and page, or its heading
        path) for a knowledge-base source, the host for a web one."""
        if self.kind == "web":
            from urllib.parse import urlsplit

            return urlsplit(self.uri or self.location).hostname or self.location
        path = self.uri or self.location
        # The file's name alone (a heading may hold "/" too, so cut the path, not the location).
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        if self.page:
            return f"{name} p. {self.page}"
        if self.heading:
            return f"{name} › " + self.heading.replace(" > ", " › ")
        return name

    def to_dict(self) -> dict[str, Any]:
        """All fields; `extra` holds flags such as web passages' `suspicious` and `snippet_only`."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        """The inverse of `to_dict`; unknown keys (from a newer version) are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("kind", "kb")
        for name in ("title", "location", "text", "chunk_id"):
            values.setdefault(name, "")
        values.setdefault("score", 0.0)
        return cls(**values)


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
