"""The LangChain retriever: langchain-tests' standard retriever tests, and the same documents,
in the same order, as `assistant search --json` (a small base here; ../shared/data/docs on the
default embedder in the slow test)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests
from typer.testing import CliRunner

from assistant.cli import app
from assistant.integrations import KnowledgeBaseRetriever
from assistant.session import Session
from assistant.settings import Settings
from vectorstore import KnowledgeBaseError

from corpus import english, write_files
from docs_base import copy_docs_home

METADATA = {
    "label",
    "kind",
    "title",
    "location",
    "source",
    "file",
    "url",
    "page",
    "heading",
    "score",
    "chunk_id",
    "base",
    "suspicious",
}


@pytest.fixture(scope="module")
def notes_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_files(
        tmp_path_factory.mktemp("notes"),
        {
            "ducks.md": english("ducks", 30),
            "owls.md": english("owls", 30),
            "denggao.md": "# 登高\n\n杜甫《登高》：风急天高猿啸哀，渚清沙白鸟飞回。\n",
        },
    )
    home = tmp_path_factory.mktemp("notes-home")
    session = Session(Settings(home=home, embedder="minilm"))
    try:
        session.ingest(folder, "default")
    finally:
        session.close()
    return home


@pytest.fixture(scope="module")
def notes_session(notes_home: Path) -> Iterator[Session]:
    session = Session(Settings(home=notes_home))
    yield session
    session.close()


class TestStandardRetrieverTests(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _session(self, notes_session: Session) -> None:
        self.session = notes_session

    @property
    def retriever_constructor(self) -> type[KnowledgeBaseRetriever]:
        return KnowledgeBaseRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"session": self.session}

    @property
    def retriever_query_example(self) -> str:
        return "owl habits"


def cli_hits(home: Path, query: str, k: int) -> list[dict]:
    result = CliRunner().invoke(app, ["--home", str(home), "search", query, "--json", "-k", str(k)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["hits"]


def assert_same(docs: list[Document], hits: list[dict], base: str = "default") -> None:
    assert len(docs) == len(hits) > 0
    for doc, hit in zip(docs, hits, strict=True):
        meta = doc.metadata
        assert set(meta) == METADATA
        assert (meta["label"], meta["chunk_id"], meta["title"], meta["location"], doc.page_content) == (
            hit["label"],
            hit["chunk_id"],
            hit["title"],
            hit["location"],
            hit["text"],
        )
        assert meta["score"] == pytest.approx(hit["score"])
        assert (meta["page"], meta["heading"] or "") == (hit["page"], hit["heading"])
        assert meta["source"] == meta["file"] == hit["uri"] and meta["url"] is None
        assert (doc.id, meta["base"], meta["kind"]) == (f"{base}:{hit['chunk_id']}", base, "kb")


@pytest.mark.parametrize("query", ["owl habits", "杜甫 登高", "ducks sentence 7"])
def test_invoke_is_assistant_search(notes_session: Session, notes_home: Path, query: str) -> None:
    retriever = KnowledgeBaseRetriever(session=notes_session, k=4)
    assert_same(retriever.invoke(query), cli_hits(notes_home, query, 4))


async def test_ainvoke_and_per_call_options(notes_session: Session, notes_home: Path) -> None:
    retriever = KnowledgeBaseRetriever(session=notes_session)
    docs = await retriever.ainvoke("杜甫 登高", k=2)
    assert_same(docs, cli_hits(notes_home, "杜甫 登高", 2))
    assert docs[0].metadata["title"] == "登高" and "风急天高猿啸哀" in docs[0].page_content
    assert len(retriever.invoke("owl habits")) == 6  # the constructor's default k
    with pytest.raises(ValueError, match=r"k must be between 1 and 50 \(got 0\)"):
        retriever.invoke("owl habits", k=0)
    with pytest.raises(KnowledgeBaseError, match="no knowledge base named 'nope'"):
        retriever.invoke("owl habits", kb="nope")


def test_from_settings_reads_the_settings_like_the_command(
    notes_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_HOME", str(notes_home))
    retriever = KnowledgeBaseRetriever.from_settings(k=1)
    try:
        [doc] = retriever.invoke("owl habits")
    finally:
        retriever.close()
    assert doc.metadata["title"] == "Notes on owls"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "file"),
    [
        ("个人信息处理者的义务有哪些？", "个人信息保护法.md"),
        ("What is a duckling?", "wiki_duck.html"),
        ("AutoGen multi-agent conversation framework", "autogen"),
    ],
)
def test_same_documents_as_assistant_search_on_the_shared_docs(
    tmp_path_factory: pytest.TempPathFactory, home: Path, query: str, file: str
) -> None:
    copy_docs_home(tmp_path_factory, home)
    retriever = KnowledgeBaseRetriever.from_settings(Settings(home=home), k=5)
    try:
        docs = retriever.invoke(query)
    finally:
        retriever.close()
    assert_same(docs, cli_hits(home, query, 5))
    assert Path(docs[0].metadata["file"]).name.startswith(file)
