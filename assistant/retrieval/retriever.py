"""The retriever: knowledge base and (when asked, per query) the web, merged into one ranked,
labelled set of sources.

Web pages are extracted with trafilatura and chunked with the same chunker as ingestion. KB hits
and web passages are then ranked together: a dense ranking (cosine similarity to the query, from
the same embedder) and a lexical ranking (BM25 over the candidates, jieba-segmented) are fused
with the same adaptive fusion as KB retrieval.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np

from ..web.injection import looks_like_injection
from .bm25 import bm25_ranking
from .dedupe import collapse
from .failures import dense_failure, describe
from .fusion import Ranked, fuse
from .kb_retriever import KBRetriever
from .sources import Source, assign_labels

if TYPE_CHECKING:  # the web step and its page reader load with the first web query
    from ingest import Chunker
    from vectorstore import KnowledgeBase
    from vectorstore.embedders import Embedder

    from ..web import SearchEngine, WebOptions, WebOutcome, WebPage

#: Web passages kept per page, and in all, before they are embedded (embedding is the slow part).
WEB_PASSAGES_PER_PAGE = 3
WEB_PASSAGES_MAX = 12


KB, WEB = "knowledge base", "web"


@dataclass
class Retrieval:
    query: str
    sources: list[Source] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    web: bool = False
    #: The parts this search asked for (KB, WEB) and those that failed; the notices say why.
    wanted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def nothing_left(self) -> bool:
        """Every part asked for failed: there is nothing to answer from (the notices say why)."""
        return bool(self.wanted) and all(part in self.failed for part in self.wanted)


class Retriever:
    def __init__(
        self,
        kb: KnowledgeBase | None,
        *,
        embedder: Embedder | None = None,
        engine: SearchEngine | Callable[[], SearchEngine] | None = None,
        web_options: WebOptions | None = None,
        chunker: Chunker | Callable[[], Chunker] | None = None,
        kb_retriever: KBRetriever | None = None,
        kb_problem: tuple[str, str] | None = None,
    ) -> None:
        """`kb_problem`: (name, why) of a knowledge base that could not be opened: each search
        says so, and answers from the web when it is on."""
        self.kb = kb
        self.kb_problem = kb_problem
        self.embedder = embedder or (kb.embedder if kb is not None else None)
        # An engine, or a factory called on the first web query (so a misconfigured engine
        # never breaks knowledge-base-only searches).
        self._engine = engine
        self._web_options = web_options
        self._chunker = chunker
        self.kb_retriever = kb_retriever or (KBRetriever(kb) if kb is not None else None)

    @property
    def web_options(self) -> WebOptions:
        if self._web_options is None:
            from ..web import WebOptions

            self._web_options = WebOptions()
        return self._web_options

    @property
    def chunker(self) -> Chunker:
        """The chunker for web pages: given, made by the factory given, or the default one (the
        ingest package loads with the first web query)."""
        from ingest import Chunker

        if self._chunker is None:
            self._chunker = Chunker()
        elif not isinstance(self._chunker, Chunker):
            self._chunker = self._chunker()
        return self._chunker

    @property
    def engine(self) -> SearchEngine | None:
        from ..web import SearchEngine

        if self._engine is not None and not isinstance(self._engine, SearchEngine):
            self._engine = self._engine()
        return self._engine

    def search(self, query: str, *, k: int = 6, web: bool = False, web_query: str | None = None) -> Retrieval:
        """The `k` best sources for `query`; `web` decides, for this query, whether to search the web.

        `web_query` is what is sent to the search engine (default: `query`). A chat passes the
        current question alone there, while `query` may carry local context from earlier turns:
        only the current question ever leaves the machine.

        A part that fails costs only itself, with a notice: a knowledge base that cannot be
        reached (the answer comes from the web), a search engine that fails (from the knowledge
        base), an embedder (ranked by words), a reranker (the fused order). When every part asked
        for failed, `nothing_left` is true.
        """
        out = Retrieval(query=query, web=web)
        # With the web on, the query vector also ranks web passages: embedded once, used twice.
        vector, embed_error = self._query_vector(query) if web else (None, None)
        kb_hits, kb_error = self._kb_hits(query, 2 * k if web else k, vector, out)
        if not web:
            out.sources = assign_labels(kb_hits[:k])
            self._say_kb_failed(out, kb_error)
            return out
        out.wanted.append(WEB)
        has_kb = self.kb_retriever is not None and kb_error is None
        outcome = self._web_step(web_query or query, fallback=has_kb)
        if outcome.failed:
            out.failed.append(WEB)
        self._say_kb_failed(out, kb_error, answered_from_web=not outcome.failed)
        if embed_error and self.kb_retriever is None:
            out.notices.append(f"{embed_error}; web passages ranked by words alone")
        out.notices.extend(outcome.notices)
        web_hits = self._web_passages(query, outcome.pages)
        out.sources = assign_labels(self._merge(query, vector, kb_hits, web_hits, k, out.notices))
        return out

    def _query_vector(self, query: str) -> tuple[list[float] | None, str | None]:
        if self.embedder is None:
            return None, None
        try:
            return self.embedder.embed_query(query), None
        except Exception as exc:  # an embedder that fails costs the dense ranking only
            return None, f"the embedder {self.embedder.id} failed: {describe(exc)}"

    def _kb_hits(self, query: str, k: int, vector, out: Retrieval) -> tuple[list[Source], str | None]:
        """The knowledge base's passages, or ([], why it could not be searched)."""
        if self.kb_problem is not None:
            out.wanted.append(KB)
            return [], self.kb_problem[1]
        if self.kb_retriever is None:
            return [], None
        out.wanted.append(KB)
        try:
            hits = self.kb_retriever.search(query, k=k, vector=vector, notices=out.notices)
        except Exception as exc:  # a server stopped, a base busy or corrupt: the web may still answer
            return [], describe(exc)
        for hit in hits:
            # Documents can carry instructions too: flag them like web passages.
            hit.extra.setdefault("suspicious", looks_like_injection(hit.text))
        return hits, None

    def _say_kb_failed(self, out: Retrieval, error: str | None, *, answered_from_web: bool = False) -> None:
        if error is None:
            return
        out.failed.append(KB)
        name = self.kb_problem[0] if self.kb_problem else getattr(self.kb, "name", "")
        then = "; answering from the web" if answered_from_web else ""
        out.notices.append(f"knowledge base '{name}' is unavailable: {error}{then}")

    def _web_step(self, query: str, *, fallback: bool) -> WebOutcome:
        """The web step's outcome; an engine that cannot be made (misconfigured, a plugin that
        fails) is a failed outcome whose notice says why."""
        from ..web import WebOutcome, run_web_step

        then = "; answering from the knowledge base" if fallback else ""
        try:
            engine = self.engine
        except Exception as exc:
            return WebOutcome(notices=[f"web search is not available: {describe(exc)}{then}"], failed=True)
        if engine is None:
            return WebOutcome(notices=[f"web search is not configured{then}"], failed=True)
        return run_web_step(
            query, engine, self.web_options, fallback="the knowledge base" if fallback else None
        )

    # --- web passages ---------------------------------------------------------------------------
    def _web_passages(self, query: str, pages: list[WebPage]) -> list[Source]:
        from ingest.formats import UnreadableFileError, html_to_document

        from ..web.search import clean_web_text

        passages: list[Source] = []
        for rank, item in enumerate(pages):
            url = item.page.url if item.page else item.result.url
            chunks: list[str] = []
            title = item.result.title
            if item.page is not None:
                try:
                    doc = html_to_document(item.page.text, item.result.title or url)
                    title = item.result.title or doc.title
                    chunks = [
                        c.text for c in self.chunker.chunk(doc, source=url, content_hash="web", kind="web")
                    ]
                except UnreadableFileError:
                    chunks = []
            if not chunks and item.result.snippet:
                chunks = [item.result.snippet]
            chunks = [clean_web_text(c) for c in chunks if c.strip()]
            for text in _best_passages(query, chunks, WEB_PASSAGES_PER_PAGE):
                passages.append(
                    Source(
                        kind="web",
                        title=title or urlsplit(url).hostname or url,
                        location=url,
                        text=text,
                        score=0.0,
                        chunk_id="web:"
                        + hashlib.blake2b(f"{url}\0{text}".encode(), digest_size=10).hexdigest(),
                        uri=url,
                        extra={
                            "search_rank": rank + 1,
                            "snippet_only": item.page is None,
                            "suspicious": looks_like_injection(text),
                        },
                    )
                )
        return passages[:WEB_PASSAGES_MAX]

    # --- merging --------------------------------------------------------------------------------
    def _merge(
        self, query: str, vector, kb_hits: list[Source], web_hits: list[Source], k: int, notices: list[str]
    ) -> list[Source]:
        candidates = kb_hits + web_hits
        if not candidates:
            return []
        by_id = {s.chunk_id: s for s in candidates}
        dense = self._dense_ranking(vector, kb_hits, web_hits, notices)
        lexical = _lexical_ranking(query, candidates)
        fused = fuse(
            dense,
            lexical,
            query=query,
            embedder_languages=self.embedder.languages if self.embedder else None,
            dense_texts=[by_id[r.id].text for r in dense],
            lexical_texts=[by_id[r.id].text for r in lexical],
        )
        for r in fused:
            by_id[r.id].score = r.score
        best = collapse(
            [by_id[r.id] for r in fused],
            text=lambda s: s.text,
            document=lambda s: s.uri or s.chunk_id,
            k=k,
        )
        return best

    def _dense_ranking(
        self, vector, kb_hits: list[Source], web_hits: list[Source], notices: list[str]
    ) -> list[Ranked]:
        if self.embedder is None or vector is None:
            return []
        try:
            return self._cosines(vector, kb_hits, web_hits)
        except Exception as exc:  # stored vectors or web passages that cannot be had
            said = dense_failure(self.embedder.id, exc)
            if not any(n.startswith(said) for n in notices):  # the base's own search said it
                notices.append(f"{said}; sources ranked by words")
            return []

    def _cosines(self, vector, kb_hits: list[Source], web_hits: list[Source]) -> list[Ranked]:
        query_vector = np.asarray(vector, dtype=np.float32)
        vectors: dict[str, np.ndarray] = {}
        if kb_hits and self.kb is not None:
            stored = self.kb.stored_vectors([s.chunk_id for s in kb_hits])
            vectors.update({i: np.asarray(v, dtype=np.float32) for i, v in stored.items()})
        if web_hits:
            embedded = self.embedder.embed_documents([s.text for s in web_hits])
            vectors.update(
                {s.chunk_id: np.asarray(v, dtype=np.float32) for s, v in zip(web_hits, embedded, strict=True)}
            )
        scored = [
            Ranked(i, float(v @ query_vector / (np.linalg.norm(v) * np.linalg.norm(query_vector) + 1e-9)))
            for i, v in vectors.items()
        ]
        return sorted(scored, key=lambda r: -r.score)


def _best_passages(query: str, texts: list[str], n: int) -> list[str]:
    """The `n` passages of one page that match the query best lexically (all if few)."""
    if len(texts) <= n:
        return texts
    ranked = _lexical_ranking(query, [Source("web", "", "", t, 0.0, str(i)) for i, t in enumerate(texts)])
    chosen = [int(r.id) for r in ranked[:n]]
    if len(chosen) < n:  # no lexical overlap at all: keep the page's first passages
        chosen += [i for i in range(len(texts)) if i not in chosen][: n - len(chosen)]
    return [texts[i] for i in sorted(chosen)]


def _lexical_ranking(query: str, sources: list[Source]) -> list[Ranked]:
    """BM25 over just these passages (titles count, as in the knowledge base's index)."""
    return bm25_ranking(query, [(s.chunk_id, f"{s.title}\n{s.text}") for s in sources])
