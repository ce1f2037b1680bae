"""What a front-end shows before the first question: the model in use (or the exact command that
gets one), the knowledge base and its size (or how to fill it), and example questions drawn from
the titles of the user's own documents."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .chat.backends import ModelInfo
from .chat.catalog import R1_CATALOG, fits
from .errors import AssistantError

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


@dataclass(frozen=True)
class DocumentOpening:
    """How a document begins, for example questions: its title, its file's name (a title that
    only repeats it is no title), its first heading and its first sentence."""

    title: str
    file_name: str = ""
    heading: str = ""
    first_sentence: str = ""


def example_questions(documents: Sequence[DocumentOpening | str], limit: int = 4) -> list[str]:
    """Up to `limit` questions about distinct documents, each in its topic's language.

    A document's topic is its title, else its first heading, else its first sentence; never its
    file name ("What are the key points of “word sample”?" asks nothing). Titles and headings
    come before sentences, and Chinese and English documents take turns, so a mixed base shows both."""
    topics: dict[str, tuple[str, bool]] = {}
    for document in documents:
        opening = DocumentOpening(document) if isinstance(document, str) else document
        found = _topic(opening)
        if found and found[0].lower() not in topics:
            topics[found[0].lower()] = found
    ranked = sorted(topics.values(), key=lambda t: (t[1], not _reads_like_a_title(t[0])))
    chinese = [t for t in ranked if _CJK.search(t[0])]
    other = [t for t in ranked if not _CJK.search(t[0])]
    picked: list[tuple[str, bool]] = []
    while (chinese or other) and len(picked) < limit:
        for pool in (chinese, other):
            if pool and len(picked) < limit:
                picked.append(pool.pop(0))
    return [_question(topic, sentence) for topic, sentence in picked]


def _topic(opening: DocumentOpening) -> tuple[str, bool] | None:
    """(the topic, whether it is a sentence rather than a title or heading), or None."""
    stem = _clean_title(opening.file_name.rsplit("/", 1)[-1]) if opening.file_name else ""
    for candidate in (opening.title, opening.heading.split(" | ")[0]):
        text = _clean_title(candidate)
        if len(text) >= 2 and text.lower() != stem.lower() and not _looks_like_a_file_name(text):
            return text, False
    sentence = _first_sentence(opening.first_sentence)
    return (sentence, True) if len(sentence) >= 4 else None


def _question(topic: str, sentence: bool) -> str:
    if _CJK.search(topic):
        return f"“{topic}”说的是什么？" if sentence else f"《{topic}》的要点是什么？"
    return f"What is meant by “{topic}”?" if sentence else f"What are the key points of “{topic}”?"


_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=\.)\s")
_MARKUP = re.compile(r"^[#>*\-+\s\d.]+|[*_`#\[\]|]")


def _first_sentence(text: str) -> str:
    """The first sentence of a passage, without Markdown marks, cut to a short quote."""
    for line in text.splitlines():
        line = _MARKUP.sub("", line).strip()
        if len(line) >= 4:
            sentence = _SENTENCE_END.split(line, maxsplit=1)[0].strip().rstrip("。.")
            limit = 24 if _CJK.search(sentence) else 60
            if len(sentence) > limit:
                cut = sentence[:limit].rsplit(" ", 1)[0] if not _CJK.search(sentence) else sentence[:limit]
                sentence = cut.rstrip(",，、 ") + "…"
            return sentence
    return ""


def _looks_like_a_file_name(text: str) -> bool:
    return bool(re.fullmatch(r"[\w.\-]+\.[A-Za-z0-9]{1,5}", text)) or "/" in text or "\\" in text


def _reads_like_a_title(title: str) -> bool:
    return bool(_CJK.search(title)) or (" " in title and not re.search(r"\w\.\w", title))


def _clean_title(title: str) -> str:
    text = _NOISE.sub(" ", title.strip())
    text = " ".join(text.split()).strip("《》“”\"' ")
    if len(text) > 60:
        text = text[:57].rstrip() + "…"
    return text


def document_openings(base, limit: int = 24) -> list[DocumentOpening]:
    """How the base's documents begin (title, file, first heading and sentence), for example
    questions; their titles alone where the first passages cannot be read."""
    try:
        found = base.document_openings(limit)
    except (AssistantError, OSError, ValueError):
        return [DocumentOpening(t) for t in base.document_titles(limit)]
    openings = []
    for record, chunk in found:
        meta = chunk.metadata if chunk is not None else {}
        text = chunk.text if chunk is not None else ""
        openings.append(DocumentOpening(record.title, record.path, str(meta.get("heading", "")), text))
    return openings
