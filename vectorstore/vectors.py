"""A knowledge base's Chroma collections of vectors: opening them, and the batched calls on them.

Every call goes through the base's `call` (KnowledgeBase._chroma), which turns a failed request
into an error the user can act on. Texts that come back from a collection are capped like any
chunk read from elsewhere: a shared base's collections can be written by anyone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ChromaConnectionError, EmbedderMismatchError
from .lexical import MAX_CHUNK_CHARS, StoredChunk
from .text import CJK_RE

if TYPE_CHECKING:
    from .embedder_choice import EmbedderRef
    from .storage import BaseStorage

#: Entries per Chroma request.
BATCH = 512
_PAGE = 5000

Call = Callable[..., Any]


@dataclass(frozen=True)
class DenseHit:
    id: str
    text: str
    metadata: dict[str, Any]
    score: float  # cosine similarity, higher is better


def english_index_wanted(text: str) -> bool:
    """Whether a chunk also goes into the English index: Latin-script words, little CJK.

    A CJK character counts like a word (it often is one), so 我是Tom Hunter is not English.
    """
    sample = text[:2000]
    words = len(_LATIN_WORD_RE.findall(sample))
    return words >= 3 and len(CJK_RE.findall(sample)) < 0.25 * words


_LATIN_WORD_RE = re.compile(r"[A-Za-z\u00c0-\u024f]{2,}")


class Collections:
    """A base's collections: the main one and the English index's (None when it has none).

    Opened at once, or (`background`, for a base opened to be searched) on a thread of their own
    that also loads the main index's HNSW graph, so that importing Chroma and loading the graph
    overlap the query's embedding and its lexical search; the first use waits for them. A failure
    there is raised where the collections are first used.
    """

    def __init__(
        self, storage: BaseStorage, embedder: EmbedderRef, english: EmbedderRef | None, *, background: bool
    ) -> None:
        self._storage, self._embedder, self._english = storage, embedder, english
        self._opened: Future = Future()
        self._lock = threading.Lock()
        self._pair: list[Any] | None = None
        if background:
            # numpy first, here: imported by this thread (the query's embedding, the ranking) and
            # Chroma's at once, it is seen half-initialized (ImportError) by one of them.
            import numpy  # noqa: F401

            threading.Thread(target=self._open, args=(True,), name="chroma-open").start()
        else:
            self._open(False)
            self._pair = self._opened.result()

    def _open(self, warm: bool) -> None:
        try:
            main = open_collection(self._storage, self._embedder)
            english = open_collection(self._storage, self._english, "en") if self._english else None
            if warm:
                _load_graph(main)
            self._opened.set_result([main, english])
        except BaseException as exc:  # raised where the collections are used
            self._opened.set_exception(exc)

    def pair(self) -> list[Any]:
        """[main, English or None], waiting for a background open to finish."""
        if self._pair is None:
            with self._lock:
                if self._pair is None:
                    self._pair = self._opened.result()
        return self._pair

    def settle(self) -> None:
        """Wait for a background open (before closing the storage under it); raises nothing."""
        self._opened.exception()


def _load_graph(collection) -> None:
    """Load the collection's HNSW graph into memory (a query does, the first time)."""
    try:
        one = collection.get(limit=1, include=["embeddings"])
        if len(one["ids"]):
            collection.query(query_embeddings=[one["embeddings"][0]], n_results=1, include=[])
    except Exception:  # only a head start: the search itself reports what is wrong
        pass


def open_collection(storage: BaseStorage, embedder: EmbedderRef, index: str = ""):
    """The base's collection of main ("") or English ("en") vectors, created if new."""
    from .chroma import ChromaEmbeddingFunction  # Chroma loads with the first collection

    try:
        collection = storage.client.get_or_create_collection(
            name=storage.collection_name(index),
            embedding_function=ChromaEmbeddingFunction(embedder.id, embedder.spec, embedder.get),
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": embedder.id, "kb": storage.name},
        )
    except Exception as exc:
        raise ChromaConnectionError(
            f"cannot open collection for '{storage.name}' in {storage.location}: {exc}"
        ) from exc
    recorded = (collection.metadata or {}).get("embedder")
    if recorded and recorded != embedder.id:
        raise EmbedderMismatchError(
            f"the Chroma collection of '{storage.name}' was built with embedder '{recorded}', "
            f"not '{embedder.id}'; ingest into a new base with --kb"
        )
    return collection


def upsert(
    call: Call, collection, chunks: Sequence[StoredChunk], embeddings: Sequence[Sequence[float]]
) -> None:
    for start in range(0, len(chunks), BATCH):
        part = chunks[start : start + BATCH]
        call(
            collection.upsert,
            ids=[c.id for c in part],
            documents=[c.text for c in part],
            metadatas=[_chroma_metadata(c.metadata) for c in part],
            embeddings=list(embeddings[start : start + BATCH]),
        )


def delete(call: Call, collections: Sequence, ids: Sequence[str]) -> None:
    ids = list(ids)
    for collection in collections:
        for start in range(0, len(ids), BATCH):
            call(collection.delete, ids=ids[start : start + BATCH])


def all_ids(call: Call, collection) -> list[str]:
    ids: list[str] = []
    offset = 0
    while True:
        page = call(collection.get, include=[], limit=_PAGE, offset=offset)["ids"]
        ids.extend(page)
        if len(page) < _PAGE:
            return ids
        offset += len(page)


def stored(call: Call, collection, ids: Sequence[str]) -> dict[str, list[float]]:
    """The vectors of `ids` (those that have one)."""
    if not ids:
        return {}
    got = call(collection.get, ids=list(ids), include=["embeddings"])
    return {i: list(map(float, e)) for i, e in zip(got["ids"], got["embeddings"], strict=True)}


def nearest(call: Call, collection, vector: Sequence[float], k: int) -> list[DenseHit]:
    res = call(
        collection.query,
        query_embeddings=[vector],
        n_results=k,
        include=["documents", "metadatas", "distances"],
    )
    return [
        DenseHit(i, (d or "")[:MAX_CHUNK_CHARS], dict(m or {}), 1.0 - float(dist))
        for i, d, m, dist in zip(
            res["ids"][0],
            res["documents"][0],
            res["metadatas"][0],
            res["distances"][0],
            strict=True,
        )
    ]


def _chroma_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    # Chroma takes str/int/float/bool values only, and no None.
    return {k: v for k, v in metadata.items() if isinstance(v, (str, int, float, bool))}
