"""Two machines' folders with the same name do not delete each other's files: a shared base
remembers which folder each source came from, and a sync of another folder into it goes ahead only
on the user's word (a question at a terminal, or --source / --yes in scripts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.cli import context as cli_context
from ingest import sync
from vectorstore import KnowledgeBase, SourceInUseError
from vectorstore.storage.shared.sources import _entry_id, machine_id

from corpus import english, write_files
from fakes_chroma import plain_client

pytestmark = pytest.mark.slow


def ingest(home: Path, url: str, folder: Path, *args: str, answer: str | None = None):
    env = {"ASSISTANT_HOME": str(home), "ASSISTANT_CHROMA_URL": url, "ASSISTANT_EMBEDDER": "minilm"}
    return CliRunner().invoke(
        app, ["ingest", str(folder), "--kb", "team", "--json", *args], env=env, input=answer
    )


def files_of(home: Path, url: str) -> set[str]:
    with KnowledgeBase.open(home, "team", chroma_url=url, create=False) as kb:
        return set(kb.files())


def origins(url: str, source: str) -> list[dict]:
    record = plain_client(url).get_collection("kb.team.record")
    meta = record.get(ids=[_entry_id(source)], include=["metadatas"])["metadatas"][0]
    return json.loads(meta["origins"])


def test_another_machines_folder_of_the_same_name_asks_before_removing_anything(
    tmp_path: Path, chroma_server: str, minilm, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = chroma_server
    home_a, home_b = tmp_path / "home-a", tmp_path / "home-b"
    docs_a = write_files(
        tmp_path / "docsA" / "docs", {"guide.md": english("guides"), "notes.txt": english("notes")}
    )
    docs_b = write_files(tmp_path / "docsB" / "docs", {"other.md": english("others")})
    assert ingest(home_a, url, docs_a).exit_code == 0
    [origin] = origins(url, "docs")
    assert origin["folder"] == str(docs_a.resolve()) and origin["machine"] == machine_id(home_a)

    # B, from a script: refused, and told what to do; nothing of A's is touched.
    refused = ingest(home_b, url, docs_b)
    assert refused.exit_code == 1
    assert str(docs_a.resolve()) in refused.stderr and "--source docs" in refused.stderr
    assert files_of(home_b, url) == {"docs/guide.md", "docs/notes.txt"}

    # B at a terminal: asked, with A's folder named; "no" changes nothing.
    monkeypatch.setattr(cli_context, "can_ask", lambda: True)
    declined = ingest(home_b, url, docs_b, answer="n\n")
    assert declined.exit_code == 1 and "same folder" in declined.stdout + declined.stderr
    assert files_of(home_b, url) == {"docs/guide.md", "docs/notes.txt"}

    # Another folder gets its own name and both live side by side.
    assert ingest(home_b, url, docs_b, "--source", "docs-b").exit_code == 0
    assert files_of(home_a, url) == {"docs/guide.md", "docs/notes.txt", "docs-b/other.md"}

    # A's own folder syncs without a question, and so does B's once B's user said yes.
    write_files(docs_a, {"more.md": english("more")})
    assert ingest(home_a, url, docs_a).exit_code == 0
    assert ingest(home_b, url, docs_b, "--source", "docs-b").exit_code == 0

    # Said to be the same folder (--source naming it, or --yes): the sync makes it match.
    same = ingest(home_b, url, docs_b, "--yes")
    assert same.exit_code == 0, same.stderr
    assert json.loads(same.stdout)["files_removed"] == 3
    assert {o["machine"] for o in origins(url, "docs")} == {machine_id(home_a), machine_id(home_b)}


def test_a_source_from_before_sources_were_recorded_asks_once(
    tmp_path: Path, chroma_server: str, minilm
) -> None:
    home = tmp_path / "home"
    folder = write_files(tmp_path / "lab" / "papers", {"a.md": english("alloys")})
    with KnowledgeBase.open(home, "lab", embedder="minilm", chroma_url=chroma_server) as kb:
        sync(kb, folder)
        # A base written by an earlier version has files under the source but no source entry.
        plain_client(chroma_server).get_collection("kb.lab.record").delete(ids=[_entry_id("papers")])
        with pytest.raises(SourceInUseError, match="added before sources were recorded"):
            sync(kb, folder)
        asked: list[str] = []
        assert sync(kb, folder, confirm=lambda q: asked.append(q) or True).files_unchanged == 1
        assert len(asked) == 1
        assert sync(kb, folder).files_unchanged == 1  # remembered now

        # The same machine, another folder of the same name: asked too.
        elsewhere = write_files(tmp_path / "home-office" / "papers", {"b.md": english("bronze")})
        with pytest.raises(SourceInUseError):
            sync(kb, elsewhere)
        assert set(kb.files()) == {"papers/a.md"}
