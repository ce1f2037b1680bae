"""How an answer's stats and citation check read, in words: one place for the CLI and the TUI."""

from __future__ import annotations

import re

from vectorstore.plurals import counted  # counts in good English, for the front-ends too

from .events import AnswerStats, CitationReport

#: The mark beside a source whose citation the check flagged.
FLAGGED_MARK = "⚑ citation flagged"
#: The mark beside a source whose text tries to give the model instructions.
SUSPICIOUS_MARK = "⚠ instructions?"


def stats_parts(model: str, stats: AnswerStats) -> list[str]:
    """The stats line's parts: model, first token, thinking time, speed, prompt against context."""
    parts = [model] if model else []
    if stats.time_to_first_token is not None:
        parts.append(f"first token {stats.time_to_first_token:.1f} s")
    if stats.reasoning_seconds is not None:
        parts.append(reasoning_title(stats.reasoning_seconds).lower())
    if stats.tokens_per_second:
        parts.append(f"{stats.tokens_per_second:.1f} tokens/s")
    if stats.num_ctx:
        parts.append(f"prompt {stats.prompt_tokens} of {stats.num_ctx} tokens")
    return parts


def citation_problems(citations: CitationReport) -> list[str]:
    """One short line per kind of problem the citation check found."""
    problems = []
    if citations.unknown_labels:
        problems.append(f"cites sources that do not exist: {', '.join(citations.unknown_labels)}")
    if citations.unsupported:
        n = len(citations.unsupported)
        verb = "does not support its" if n == 1 else "do not support their"
        problems.append(f"{counted(n, 'citation')} that {verb} sentence")
    return problems


def reasoning_title(seconds: float | None) -> str:
    """ "Thought for 12.4 s": the folded reasoning's title, and (in lower case) the stats line's part,
    from the same number so that they agree."""
    return f"Thought for {seconds:.1f} s" if seconds is not None else "Thoughts"


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


def close_code_block(markdown: str) -> str:
    """`markdown` with a code block left open (an answer stopped in the middle of one) closed, so
    that what follows is not read as code."""
    fence: str | None = None
    for match in _FENCE.finditer(markdown):
        marker = match.group(1)
        if fence is None:
            fence = marker
        elif marker[0] == fence[0] and len(marker) >= len(fence):
            fence = None
    return markdown if fence is None else f"{markdown.rstrip()}\n{fence}"
