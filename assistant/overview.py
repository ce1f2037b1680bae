"""What a front-end shows before the first question: the model in use (or the exact command that
gets one), the knowledge base and its size (or how to fill it), and example questions drawn from
the titles of the user's own documents."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .chat.backends import ModelInfo
from .chat.catalog import R1_CATALOG, fits

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
#: File-name noise that makes a poor question: extensions, version and page suffixes, underscores.
_NOISE = re.compile(r"\.(md|txt|pdf|docx?|html?|epub|json|csv|rst)$|[_]+", re.IGNORECASE)


@dataclass(frozen=True)
class Overview:
    """Everything the first-run screen says; every field is plain data, safe to render escaped."""

    kb: str
    #: The model questions go to, or None when none is installed or the server is down.
    model: str | None = None
    #: One sentence that says what is wrong with the model server and the exact command to run.
    model_problem: str | None = None
    #: None when the base does not exist yet.
    documents: int | None = None
    chunks: int | None = None
    examples: list[str] = field(default_factory=list)
    #: Chunks with vectors; fewer than `chunks` while an ingest is (or was cut off) embedding.
    embedded_chunks: int | None = None
    #: Why the base cannot be used now (its Chroma server is down, say), with what to do.
    kb_problem: str | None = None


def recommended_model(memory_gib: float | None = None) -> str:
    """The R1 distill to suggest to someone who has none: the 7b where it fits, else the 1.5b."""
    preferred = next(c for c in R1_CATALOG if c.tag == "deepseek-r1:7b")
    return preferred.tag if fits(preferred, memory_gib) else R1_CATALOG[0].tag


def model_status(
    chosen: str | None,
    installed: Sequence[ModelInfo],
    problem: str | None,
    default: str | None,
    *,
    backend: str = "ollama",
    memory_gib: float | None = None,
) -> tuple[str | None, str | None]:
    """(the model in use, a problem sentence with the command that fixes it)."""
    if problem:
        return chosen, problem
    names = {m.name for m in installed}
    pull = "assistant models pull {}" if backend == "ollama" else "your server's own command for {}"
    if chosen and names and chosen not in names and f"{chosen}:latest" not in names:
        return chosen, f"model '{chosen}' is not installed: run `{pull.format(chosen)}` (or press F2)."
    if chosen:
        return chosen, None
    if default:
        return default, None
    suggestion = recommended_model(memory_gib)
    return None, (
        f"no model is installed yet: run `{pull.format(suggestion)}` (or press F2 to pick one and pull it)."
    )


def example_questions(titles: Sequence[str], limit: int = 4) -> list[str]:
    """Up to `limit` questions about distinct documents, each in its title's language.

    Titles that read like titles (words, Chinese) come before ones that look like file names, and
    Chinese and English documents take turns, so a mixed base shows both."""
    cleaned: dict[str, str] = {}
    for raw in titles:
        title = _clean_title(raw)
        if len(title) >= 2 and title.lower() not in cleaned:
            cleaned[title.lower()] = title
    ranked = sorted(cleaned.values(), key=lambda t: not _reads_like_a_title(t))
    chinese = [t for t in ranked if _CJK.search(t)]
    other = [t for t in ranked if not _CJK.search(t)]
    picked: list[str] = []
    while (chinese or other) and len(picked) < limit:
        for pool in (chinese, other):
            if pool and len(picked) < limit:
                picked.append(pool.pop(0))
    return [
        f"《{t}》的要点是什么？" if _CJK.search(t) else f"What are the key points of “{t}”?" for t in picked
    ]


def _reads_like_a_title(title: str) -> bool:
    return bool(_CJK.search(title)) or (" " in title and not re.search(r"\w\.\w", title))


def _clean_title(title: str) -> str:
    text = _NOISE.sub(" ", title.strip())
    text = " ".join(text.split()).strip("《》“”\"' ")
    if len(text) > 60:
        text = text[:57].rstrip() + "…"
    return text
