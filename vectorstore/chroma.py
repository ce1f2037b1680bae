"""Chroma clients: embedded (persistent, on disk) by default, or a Chroma server by URL.

We always hand Chroma our own embedding function: its default one downloads a model on first
use, which a private, offline assistant must never do. Telemetry is off.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

_loading = threading.Lock()


@contextlib.contextmanager
def _override_checks_skipped() -> Iterator[None]:
    """While Chroma loads, `@override` (the `overrides` package) marks a method as an override
    without checking it against its base class. Chroma decorates some 170 methods, and those checks
    (stack-frame inspection and signature comparison: a development aid, not a runtime guard) took
    a quarter of its import (benchmarks/RESULTS.md, cold start). The decorator is restored after."""
    import overrides

    saved = overrides.override, overrides.overrides

    def marked(method=None, **_options):
        if method is None:  # used as @override(check_signature=...)
            return marked
        method.__override__ = True
        return method

    with _loading:
        overrides.override = overrides.overrides = marked
        try:
            yield
        finally:
            overrides.override, overrides.overrides = saved


with _override_checks_skipped():
    import chromadb
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings  # noqa: E402
from chromadb.config import Settings as ChromaSettings  # noqa: E402

from .embedders import Embedder  # noqa: E402
from .errors import ChromaConnectionError  # noqa: E402

__all__ = ["ChromaConnectionError", "ChromaEmbeddingFunction", "embedded_client", "server_client"]


class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Adapts our `Embedder` to Chroma's embedding-function protocol.

    The embedder is made on first use, so opening a base to read its stats loads no model.
    """

    def __init__(self, embedder_id: str, spec: str, factory: Callable[[], Embedder]) -> None:
        self.embedder_id, self.spec, self._factory = embedder_id, spec, factory

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's parameter name
        import numpy as np

        vectors = self._factory().embed_documents(list(input))
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002
        import numpy as np

        return [np.asarray(self._factory().embed_query(t), dtype=np.float32) for t in input]

    @staticmethod
    def name() -> str:
        return "r1_assistant"

    def get_config(self) -> dict:
        return {"embedder": self.embedder_id, "spec": self.spec}

    @staticmethod
    def build_from_config(config: dict) -> ChromaEmbeddingFunction:
        # The configuration comes from the server: only a built-in embedder is ever loaded from it.
        from .embedder_choice import builtin_spec
        from .embedders import EmbedderError, make_embedder

        spec = str(config.get("spec") or config.get("embedder") or "")

        def factory() -> Embedder:
            if not builtin_spec(spec):
                raise EmbedderError(
                    f"a Chroma collection names the embedder '{spec[:80]}', which is not a built-in "
                    "one; it is not loaded"
                )
            return make_embedder(spec)

        return ChromaEmbeddingFunction(str(config.get("embedder") or spec), spec, factory)

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"


def _settings() -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def embedded_client(path: Path) -> chromadb.ClientAPI:
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=_settings())


def server_client(url: str) -> chromadb.ClientAPI:
    parsed = urlparse(url if "://" in url else f"http://{url}")
    if not parsed.hostname:
        raise ChromaConnectionError(f"'{url}' is not a Chroma server URL (e.g. http://127.0.0.1:8000)")
    ssl = parsed.scheme == "https"
    port = parsed.port or (443 if ssl else 8000)
    try:
        return chromadb.HttpClient(host=parsed.hostname, port=port, ssl=ssl, settings=_settings())
    except Exception as exc:  # chromadb raises ValueError/ConnectionError variants
        raise ChromaConnectionError(
            f"cannot reach the Chroma server at {url}: {exc}. Start it (`chroma run`) or unset "
            "ASSISTANT_CHROMA_URL to use the embedded store."
        ) from exc
