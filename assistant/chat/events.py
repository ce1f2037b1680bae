"""The typed events of one answer: what the CLI and the TUI render, and nothing else."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from ..retrieval.sources import Source


@dataclass(frozen=True)
class Progress:
    """What the pipeline is doing now (searching, asking the model): said before each slow step,
    the first at once, so that a front-end shows something before anything has loaded."""

    text: str


@dataclass(frozen=True)
class SourcesFound:
    sources: list[Source]
    web: bool


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class AnswerDelta:
    text: str


@dataclass(frozen=True)
class Notice:
    text: str
    level: Literal["info", "warning", "error"] = "info"


@dataclass
class AnswerStats:
    #: Seconds from sending the request to the first token (reasoning or answer).
    time_to_first_token: float | None = None
    #: Seconds spent reasoning (first reasoning token to first answer token).
    reasoning_seconds: float | None = None
    #: Generation speed from the server's nanosecond counters.
    tokens_per_second: float | None = None
    prompt_tokens: int = 0
    eval_tokens: int = 0
    num_ctx: int = 0
    total_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerStats:
        return cls(**{k: v for k, v in data.items() if k in _field_names(cls)})


@dataclass
class CitationReport:
    labels_used: list[str] = field(default_factory=list)
    #: Labels the answer cites that name no source.
    unknown_labels: list[str] = field(default_factory=list)
    #: Sentences whose cited sources share nothing with them: {"sentence", "labels"}.
    unsupported: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unknown_labels and not self.unsupported

    @property
    def flagged_labels(self) -> set[str]:
        """Labels the check flagged: cited but naming no source, or cited for a claim they do not
        support."""
        return set(self.unknown_labels) | {label for item in self.unsupported for label in item["labels"]}

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CitationReport:
        return cls(**{k: v for k, v in data.items() if k in _field_names(cls)})


def _field_names(cls) -> set[str]:
    return {f.name for f in fields(cls)}


#: What happened to a question: answered; interrupted (the stream broke and the answer is what
#: arrived before that); not_asked (the model was never asked: no model, a server down, retrieval
#: failed; the notices say why).
Outcome = Literal["answered", "interrupted", "not_asked"]


@dataclass(frozen=True)
class Final:
    model: str
    web: bool
    outcome: Outcome
    answer: str = ""
    reasoning: str = ""
    sources: list[Source] = field(default_factory=list)
    citations: CitationReport = field(default_factory=CitationReport)
    stats: AnswerStats = field(default_factory=AnswerStats)
    notices: tuple[str, ...] = ()

    @property
    def interrupted(self) -> bool:
        return self.outcome == "interrupted"

    @property
    def asked(self) -> bool:
        """False when the model was never asked (the notices say why)."""
        return self.outcome != "not_asked"

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "reasoning": self.reasoning,
            "sources": [s.to_dict() for s in self.sources],
            "citations": self.citations.to_dict(),
            "stats": self.stats.to_dict(),
            "model": self.model,
            "web": self.web,
            "outcome": self.outcome,
            "interrupted": self.interrupted,
            "notices": list(self.notices),
        }


Event = Progress | SourcesFound | ReasoningDelta | AnswerDelta | Notice | Final
