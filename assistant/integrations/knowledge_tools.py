"""What the MCP server's tools do, without the protocol: search a base, list the bases, read a
passage by id, and (only in folders the user allowed) ingest. Every argument is checked here and
a bad one is a `ToolInputError` whose message says what to pass instead.

Passage ids: a knowledge-base passage is `BASE:CHUNK_ID` (chunk ids are deterministic, see
assistant.passages), so an id names the same passage for as long as its file is unchanged, across
searches and server restarts. A web passage is `web:HASH`; web pages are not stored, so the
server keeps the passages of its recent searches in memory for read_passage.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.failures import STILL_FAILING
from vectorstore.kb import NAME_RE

from ..errors import AssistantError
from ..retrieval import Source
from ..retrieval.sources import kb_location
from ..session import Session
from ..web.injection import looks_like_injection
from .results import (
    BaseInfo,
    BaseList,
    FileProblem,
    IngestReport,
    Neighbour,
    Passage,
    PassageText,
    SearchResult,
)

K_RANGE = (1, 50)
CONTEXT_RANGE = (0, 5)
#: Web passages remembered for read_passage (the last few searches' worth).
WEB_PASSAGES_KEPT = 500

#: progress(done, total, message): how an ingest reports how far it is.
Progress = Callable[[float, float | None, str], None]


class ToolInputError(AssistantError):
    """A tool was called with an argument it cannot use; the message says what to pass."""


class KnowledgeTools:
    def __init__(self, session: Session, *, ingest_folders: Sequence[Path] = ()) -> None:
        """`ingest_folders`: where `ingest` may read (and below; nowhere if empty)."""
        self.session = session
        self.ingest_folders = tuple(_real(folder) for folder in ingest_folders)
        # Searches share the embedder and the base's SQLite connection: one at a time (each
        # takes tens of milliseconds). An ingest runs beside them, as in the chat app.
        self._search_lock = threading.Lock()
        self._ingest_lock = threading.Lock()
        self._web: OrderedDict[str, Source] = OrderedDict()

    @property
    def default_base(self) -> str:
        return self.session.settings.kb

    # --- search -------------------------------------------------------------------------------
    def search(self, query: str, base: str | None = None, k: int = 6, web: bool = False) -> SearchResult:
        """The ranked, labelled passages for `query`: the same ranking as `assistant search`."""
        query = (query or "").strip()
        if not query:
            raise ToolInputError("query is empty: give the question or keywords to search for")
        if not K_RANGE[0] <= k <= K_RANGE[1]:
            raise ToolInputError(f"k must be between {K_RANGE[0]} and {K_RANGE[1]} (got {k})")
        with self._search_lock:
            name = self._base(base, required=not web or base is not None)
            # Only `query` goes to the search engine, and only when `web` is true.
            result = self.session.search(query, kb=name or "-", k=k, web=web)
            passages = []
            for source in result.sources:
                passage_id = source.chunk_id if source.kind == "web" else f"{name}:{source.chunk_id}"
                passages.append(Passage.from_source(source, passage_id))
                if source.kind == "web":
                    self._remember_web(passage_id, source)
        return SearchResult(query=query, base=name, web=web, passages=passages, notices=result.notices)

    def _base(self, base: str | None, *, required: bool) -> str | None:
        """The base to search: `base` or the default; an unknown one is an error when `required`
        (without the web), else None (the web alone)."""
        name = (base or "").strip() or self.default_base
        known = self.session.knowledge_bases()
        if name in known:
            return name
        if not required:
            return None
        listing = ", ".join(known) if known else "none yet"
        hint = " or set web to true to search the web only" if base is None else ""
        raise ToolInputError(
            f"no knowledge base named '{name}' (known: {listing}); pass one of them as base{hint}"
        )

    def _remember_web(self, passage_id: str, source: Source) -> None:
        self._web[passage_id] = source
        self._web.move_to_end(passage_id)
        while len(self._web) > WEB_PASSAGES_KEPT:
            self._web.popitem(last=False)

    # --- bases --------------------------------------------------------------------------------
    def list_bases(self) -> BaseList:
        """Every knowledge base with its size; one whose stats fail says why, the others still list."""
        with self._search_lock:
            names = self.session.knowledge_bases()
            bases = [self._base_info(name) for name in names]
        return BaseList(
            bases=bases,
            default=self.default_base,
            ingest_folders=[str(folder) for folder in self.ingest_folders],
        )

    def _base_info(self, name: str) -> BaseInfo:
        try:
            stats = self.session.kb_stats(name)
        except AssistantError as exc:
            return BaseInfo(name=name, default=name == self.default_base, problem=str(exc))
        return BaseInfo(
            name=name,
            default=name == self.default_base,
            documents=stats.documents,
            chunks=stats.chunks,
            embedded_chunks=stats.embedded_chunks,
            embedder=stats.embedder,
            bytes=stats.bytes,
            location=stats.location,
        )

    # --- reading ------------------------------------------------------------------------------
    def read(self, passage_id: str, context: int = 1) -> PassageText:
        """Passage `passage_id` (from a search result) in full, with `context` neighbours each side."""
        if not CONTEXT_RANGE[0] <= context <= CONTEXT_RANGE[1]:
            raise ToolInputError(
                f"context must be between {CONTEXT_RANGE[0]} and {CONTEXT_RANGE[1]} (got {context})"
            )
        passage_id = (passage_id or "").strip()
        if passage_id.startswith("web:") and passage_id.count(":") == 1:
            return self._read_web(passage_id)
        base, _, chunk_id = passage_id.partition(":")
        if not NAME_RE.match(base) or ":" not in chunk_id:
            raise ToolInputError(
                f"'{passage_id}' is not a passage id: pass the `id` field of a search result "
                "(like 'default:3f2a9c…:00004'), not its label or title"
            )
        with self._search_lock:
            if base not in self.session.knowledge_bases():
                raise ToolInputError(f"no knowledge base named '{base}' (from the id '{passage_id}')")
            found = self.session.read_passage(chunk_id, kb=base, context=context)
        if found is None:
            raise ToolInputError(
                f"knowledge base '{base}' has no passage '{chunk_id}' (any more): its document changed "
                "or was removed since that search; search again for current ids"
            )
        meta = found.passage.metadata
        return PassageText(
            id=passage_id,
            kind="kb",
            base=base,
            title=str(meta.get("title", "")),
            location=kb_location(meta),
            file=str(meta.get("source") or "") or None,
            page=meta.get("page"),
            heading=str(meta.get("heading") or "") or None,
            text=found.passage.text,
            position=found.position,
            count=found.count,
            before=[Neighbour(id=f"{base}:{p.chunk_id}", text=p.text) for p in found.before],
            after=[Neighbour(id=f"{base}:{p.chunk_id}", text=p.text) for p in found.after],
            suspicious=looks_like_injection(found.passage.text),
        )

    def _read_web(self, passage_id: str) -> PassageText:
        with self._search_lock:
            source = self._web.get(passage_id)
        if source is None:
            raise ToolInputError(
                f"web passage '{passage_id}' is not among this server's recent searches (web pages "
                "are not stored); search again with web set to true"
            )
        return PassageText(
            id=passage_id,
            kind="web",
            title=source.title,
            location=source.location,
            url=source.uri or source.location,
            text=source.text,
            suspicious=bool(source.extra.get("suspicious")),
        )

    # --- ingest -------------------------------------------------------------------------------
    def ingest(self, folder: str, base: str | None = None, progress: Progress | None = None) -> IngestReport:
        """Sync `folder` (inside an allowed folder) into `base`, as `assistant ingest` does."""
        path = self.allowed_path(folder)
        name = (base or "").strip() or self.default_base
        if not NAME_RE.match(name):
            raise ToolInputError(
                f"'{name}' is not a valid knowledge-base name: use letters, digits, '-' and '_' "
                "(up to 63 characters, starting with a letter or digit)"
            )
        if not self._ingest_lock.acquire(blocking=False):
            raise ToolInputError(
                "an ingest is already running in this server; call again when it has finished"
            )
        try:
            summary = self.session.ingest(path, name, _progress_events(progress) if progress else None)
        finally:
            self._ingest_lock.release()
        return IngestReport(
            folder=str(path),
            base=name,
            files_seen=summary.files_seen,
            files_added=summary.files_added,
            files_updated=summary.files_updated,
            files_unchanged=summary.files_unchanged,
            files_removed=summary.files_removed,
            files_failed=[FileProblem(path=f.path, error=f.error) for f in summary.files_failed]
            + [
                FileProblem(path=f.path, error=f"{STILL_FAILING}: {f.error}")
                for f in summary.files_still_failing
            ],
            files_skipped=[FileProblem(path=f.path, error=f.reason) for f in summary.files_skipped_list],
            chunks_added=summary.chunks_added,
            chunks_removed=summary.chunks_removed,
            chunks_embedded=summary.chunks_embedded,
            seconds=round(summary.seconds, 3),
        )

    def allowed_path(self, folder: str) -> Path:
        """`folder` resolved (links followed), if it and every file an ingest would read in it lie
        inside the allowed folders; a relative path is taken inside the first allowed folder."""
        if not self.ingest_folders:
            raise ToolInputError("ingest is off: start the server with `assistant mcp --allow-ingest FOLDER`")
        allowed = ", ".join(str(f) for f in self.ingest_folders)
        if not (folder or "").strip():
            raise ToolInputError(f"folder is empty: give a folder inside {allowed}")
        given = Path(folder).expanduser()
        if not given.is_absolute():
            given = self.ingest_folders[0] / given
        real = _real(given)
        if not real.exists():
            raise ToolInputError(f"{folder} does not exist; give a folder inside {allowed}")
        if not self._inside(real):
            raise ToolInputError(
                f"{folder} is outside the folders this server may ingest ({allowed}); "
                f"to allow it, start the server with `assistant mcp --allow-ingest {folder}`"
            )
        from ingest.discovery import discover

        # What an ingest would read (discovery already skips links out of `real` itself), each such
        # link named in path order (a folder's listing order differs by machine).
        outside = sorted(
            (found.path, target)
            for found in discover(real, follow_links=self.session.settings.follow_links)
            if found.readable and not self._inside(target := _real(found.path))
        )
        if outside:
            links = "; ".join(
                f"{path} links to {target}, outside the folders this server may ingest"
                for path, target in outside[:5]
            )
            more = f" (and {len(outside) - 5} more)" if len(outside) > 5 else ""
            raise ToolInputError(
                f"{links}{more} ({allowed}); nothing was ingested. Remove the links or allow their targets"
            )
        return real

    def _inside(self, real: Path) -> bool:
        return any(real == root or root in real.parents for root in self.ingest_folders)

    # --- warm-up ------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load what a first search needs (embedders, Chroma's index, jieba's dictionary) by
        searching the default base in English and in Chinese; nothing if it does not exist.
        The server will be asked many questions: its query encoders are built for that at once
        (vectorstore.embedders.expect_many_queries)."""
        from vectorstore.embedders import expect_many_queries

        expect_many_queries()
        with self._search_lock:
            if self.default_base not in self.session.knowledge_bases():
                return
            for query in ("warm up the index", "预热索引"):
                self.session.search(query, kb=self.default_base, k=1)


def _real(path: Path) -> Path:
    """`path` absolute with every link resolved (never raises on loops, unlike Path.resolve)."""
    return Path(os.path.realpath(os.path.expanduser(path)))


def _progress_events(progress: Progress) -> Callable[[object], None]:
    """An ingest event handler (Session's ingest events) that reports files read, then chunks
    embedded, as one count."""
    from ..ingest_events import EmbeddingProgress, FileProcessed, IngestStarted, Searchable

    state = {"files": 0, "total_files": 0, "chunks": 0, "total_chunks": 0}

    def on_event(event: object) -> None:
        if isinstance(event, IngestStarted):
            state["total_files"] = event.total_files
        elif isinstance(event, FileProcessed):
            state["files"] += 1
        elif isinstance(event, Searchable):
            state["total_chunks"] = event.to_embed
        elif isinstance(event, EmbeddingProgress):
            state["chunks"] += event.count
        else:
            return
        total = state["total_files"] + state["total_chunks"]
        message = (
            f"embedded {state['chunks']} of {state['total_chunks']} chunks (searchable by words already)"
            if state["total_chunks"]
            else f"read {state['files']} of {state['total_files']} files"
        )
        progress(state["files"] + state["chunks"], total or None, message)

    return on_event
