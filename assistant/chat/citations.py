"""After the answer: check its citations against the sources it was given."""

from __future__ import annotations

import re

from vectorstore.text import STOPWORDS, segment

from ..retrieval.sources import Source
from .events import CitationReport

# [K1], [W2], [K1, K3], 【K1】 and [K1][W2].
_CITATION = re.compile(r"[\[【]\s*((?:[KW]\d+\s*[,，、;]?\s*)+)[\]】]")
_LABEL = re.compile(r"[KW]\d+")


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[。！？!?])|(?<=\.)\s+|\n+", text)
    return [p.strip() for p in parts if p and p.strip()]


def _content_tokens(text: str) -> set[str]:
    return {t for t in segment(_CITATION.sub(" ", text)) if t not in STOPWORDS and len(t) > 1 or t.isdigit()}


def check_citations(answer: str, sources: list[Source]) -> CitationReport:
    by_label = {s.label: s for s in sources}
    report = CitationReport()
    seen: dict[str, None] = {}
    for sentence in sentences(answer):
        labels = [label for group in _CITATION.findall(sentence) for label in _LABEL.findall(group)]
        if not labels:
            continue
        for label in labels:
            seen.setdefault(label, None)
        known = [label for label in labels if label in by_label]
        if not known:
            continue
        claim = _content_tokens(sentence)
        if not claim:
            continue
        support = set().union(
            *(_content_tokens(by_label[label].text + " " + by_label[label].title) for label in known)
        )
        if not claim & support:
            report.unsupported.append({"sentence": sentence, "labels": known})
    report.labels_used = list(seen)
    report.unknown_labels = [label for label in seen if label not in by_label]
    return report
