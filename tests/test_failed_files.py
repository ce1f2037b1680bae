"""A folder with a few bad files: the run completes (exit 0, every failure listed; `--strict` or a
folder where nothing could be ingested exits 3), and a file that failed is remembered per base so
that the next ingest reports it as still failing, unchanged, without reading it again, until the
file, a limit setting, the parser's options or the readers' version change."""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ingest.failures
import ingest.ocr.pages
from assistant.cli import app
from ingest import ReadLimits, sync
from ingest.failures import STILL_FAILING
from ingest.formats import OcrOptions, parse

from corpus import english, write_files

BINARY = bytes(range(256)) * 4  # not text in any encoding: fails as binary content


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_files(
        tmp_path / "notes",
        {"ducks.md": english("ducks"), "sub/owls.txt": english("owls"), "blob.dat": BINARY, "empty.txt": ""},
    )


def names(failures) -> set[str]:
    return {Path(f.path).name for f in failures}


def test_a_failed_file_is_not_read_again_until_it_changes(open_kb, folder: Path) -> None:
    kb = open_kb()
    first = sync(kb, folder)
    assert names(first.files_failed) == {"blob.dat", "empty.txt"} and first.files_still_failing == []

    # The same bytes' size and time, new content that would read: still failing, not read again.
    blob = folder / "blob.dat"
    stat = blob.stat()
    blob.write_bytes(english("geese").encode()[: stat.st_size].ljust(stat.st_size, b"."))
    os.utime(blob, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    events = []
    second = sync(kb, folder, on_event=events.append)
    assert second.files_failed == [] and names(second.files_still_failing) == {"blob.dat", "empty.txt"}
    assert second.files_unchanged == 2 and second.files_added == 0
    [still] = [f for f in second.files_still_failing if f.path.endswith("blob.dat")]
    assert still.error.startswith("binary content")  # the error it failed with
    done = [e for e in events if getattr(e, "path", "").endswith("blob.dat")]
    assert done[0].status == "failed" and done[0].error.startswith(STILL_FAILING)

    # Its modification time changes: read again, ingested now, and no longer remembered.
    os.utime(blob, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    third = sync(kb, folder)
    assert third.files_added == 1 and names(third.files_still_failing) == {"empty.txt"}
    assert set(kb.memory.failures()) == {str(folder / "empty.txt")}


def test_a_touched_file_with_the_same_bytes_is_hashed_not_parsed(open_kb, folder: Path) -> None:
    kb = open_kb()
    sync(kb, folder)
    blob = folder / "blob.dat"
    remembered = kb.memory.failures()[str(blob)]
    assert remembered.content_hash  # the reader got as far as hashing it
    stat = blob.stat()
    os.utime(blob, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # touched: same bytes
    touched = sync(kb, folder)
    assert touched.files_failed == [] and names(touched.files_still_failing) == {"blob.dat", "empty.txt"}
    [again] = [f for f in touched.files_still_failing if f.path.endswith("blob.dat")]
    assert again.error == remembered.error
    now = kb.memory.failures()[str(blob)]
    assert now.mtime_ns == stat.st_mtime_ns + 5_000_000_000 and now.content_hash == remembered.content_hash

    blob.write_bytes(BINARY[::-1])  # other bytes, still binary: parsed again, fails anew
    changed = sync(kb, folder)
    assert names(changed.files_failed) == {"blob.dat"} and names(changed.files_still_failing) == {"empty.txt"}
    assert kb.memory.failures()[str(blob)].content_hash != remembered.content_hash


def test_a_changed_limit_parser_option_or_reader_version_retries(open_kb, folder: Path, monkeypatch) -> None:
    kb = open_kb()
    sync(kb, folder)
    assert names(sync(kb, folder).files_still_failing) == {"blob.dat", "empty.txt"}
    retried = sync(kb, folder, limits=ReadLimits(file_timeout=60))
    assert names(retried.files_failed) == {"blob.dat", "empty.txt"} and retried.files_still_failing == []
    assert names(sync(kb, folder, limits=ReadLimits(file_timeout=60)).files_still_failing) == {
        "blob.dat",
        "empty.txt",
    }
    off = partial(parse, ocr=OcrOptions(enabled=False))
    assert sync(kb, folder, parser=off).files_still_failing == []  # OCR turned off: tried again
    monkeypatch.setattr(ingest.failures, "READERS_VERSION", "a newer reader")
    assert sync(kb, folder, parser=off).files_still_failing == []
    assert len(sync(kb, folder, parser=off).files_still_failing) == 2
    monkeypatch.setattr(ingest.ocr.pages, "CACHE_VERSION", "a newer OCR engine")
    assert sync(kb, folder, parser=off).files_still_failing == []


def test_a_file_that_fails_then_goes_is_forgotten_and_a_too_large_one_is_remembered(
    open_kb, folder: Path
) -> None:
    kb = open_kb()
    (folder / "big.txt").write_text("word " * 300_000)  # 1.5 MB
    limits = ReadLimits(max_file_mb=1)
    first = sync(kb, folder, limits=limits)
    assert names(first.files_failed) == {"blob.dat", "empty.txt", "big.txt"}
    assert names(sync(kb, folder, limits=limits).files_still_failing) == {"blob.dat", "empty.txt", "big.txt"}
    (folder / "empty.txt").unlink()
    sync(kb, folder, limits=limits)
    assert {Path(p).name for p in kb.memory.failures()} == {"blob.dat", "big.txt"}
    assert sync(kb, folder).files_added == 1  # the default limit reads big.txt


def cli(*args: str):
    return CliRunner().invoke(app, ["--embedder", "minilm", *args])


def test_the_exit_status_contract_for_a_few_bad_files(home: Path, folder: Path, tmp_path) -> None:
    first = cli("ingest", str(folder), "--json")
    assert first.exit_code == 0, first.output  # completed: the failures are listed, chat can open
    summary = json.loads(first.stdout)
    assert {Path(f["path"]).name for f in summary["files_failed"]} == {"blob.dat", "empty.txt"}
    assert summary["files_still_failing"] == []

    again = cli("ingest", str(folder), "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["files_failed"] == [] and len(summary["files_still_failing"]) == 2
    assert cli("ingest", str(folder), "--strict").exit_code == 3

    plain = cli("ingest", str(folder))
    assert "2 still failing" in plain.stderr and "2 files still fail, unchanged" in plain.stderr
    assert "blob.dat: binary content" in plain.stderr

    # Nothing in the folder could be ingested: exit status 3 without --strict, first run and next.
    bad = write_files(tmp_path / "bad", {"a.bin": BINARY, "b.txt": ""})
    assert cli("ingest", str(bad), "--kb", "bad").exit_code == 3
    assert cli("ingest", str(bad), "--kb", "bad").exit_code == 3
    assert cli("ingest", str(folder), "--strict", "--kb", "clean").exit_code == 3
