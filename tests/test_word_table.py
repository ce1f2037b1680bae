"""Queries segmented from the table of jieba's dictionary, exactly as from the whole dictionary."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import jieba
import pytest

from vectorstore.text import normalise
from vectorstore.word_table import WordTable

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> WordTable:
    return WordTable(tmp_path_factory.mktemp("cache"))


def _texts() -> list[str]:
    cmrc = json.loads((SHARED / "retrieval" / "cmrc2018_trial.json").read_text(encoding="utf-8"))["data"]
    questions = [qa["question"] for a in cmrc for p in a["paragraphs"] for qa in p["qas"]]
    pairs = json.loads((SHARED / "retrieval" / "tatoeba_cmn_eng.json").read_text(encoding="utf-8"))["pairs"]
    law = (SHARED / "docs" / "zh" / "个人信息保护法.md").read_text(encoding="utf-8")
    return questions + [p["zh"] for p in pairs] + [p["en"] for p in pairs] + law.splitlines()[:300]


def test_the_table_segments_exactly_as_jieba(table: WordTable) -> None:
    texts = [normalise(t) for t in _texts() if t.strip()]
    assert len(texts) > 2000
    differ = [t for t in texts if list(table.tokenizer(t).cut_for_search(t)) != list(jieba.cut_for_search(t))]
    assert differ == []


def test_the_table_is_written_once_and_named_for_jiebas_version(table: WordTable) -> None:
    table.tokenizer("登高")
    path = table.path
    assert path.is_file() and jieba.__version__ in path.name
    written = path.stat().st_mtime_ns
    WordTable(table.folder).tokenizer("杜甫")
    assert path.stat().st_mtime_ns == written
    assert [p.name for p in table.folder.iterdir()] == [path.name]  # no temporary file left
    assert int(table._table.meta()["longest"]) == max(map(len, jieba.dt.FREQ))


def test_a_query_never_loads_jiebas_dictionary(tmp_path: Path) -> None:
    script = (
        "import sys, jieba\n"
        "from pathlib import Path\n"
        "from vectorstore import text\n"
        "from vectorstore.lookup_table import use_cache_folder\n"
        "use_cache_folder(Path(sys.argv[1]))\n"
        "terms = text.query_terms('杜甫的《登高》写了什么？')\n"
        "print(terms, jieba.dt.initialized, len(jieba.dt.FREQ) < 1000)\n"
    )
    run = [sys.executable, "-c", script, str(tmp_path)]
    first = subprocess.run(run, capture_output=True, text=True, timeout=300)  # writes the table
    assert first.returncode == 0, first.stderr
    second = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().endswith("False True")
    assert second.stdout.split("]")[0] == first.stdout.split("]")[0]
    assert "'登高'" in second.stdout and "'杜甫'" in second.stdout


def test_a_damaged_or_unwritable_table_falls_back_to_jiebas_own(tmp_path: Path, monkeypatch) -> None:
    from vectorstore import lookup_table, text

    expected = text.query_terms("个人信息处理者的义务有哪些？")
    monkeypatch.setattr(jieba.dt, "initialized", False)  # as in a new process
    monkeypatch.setattr(text, "_table_uses", 0)
    monkeypatch.setattr(lookup_table, "_folder", tmp_path)
    damaged = WordTable(tmp_path)
    damaged.path.write_bytes(b"not a database" * 100)
    assert text.query_terms("个人信息处理者的义务有哪些？") == expected
    assert WordTable(tmp_path).tokenizer("个人").FREQ["个人"] > 0  # written again
    older = sqlite3.connect(damaged.path)  # a table of another layout (an older version's)
    older.execute("DROP TABLE entries")
    older.execute("CREATE TABLE words (word TEXT PRIMARY KEY, freq INTEGER)")
    older.execute("DELETE FROM meta WHERE key = 'format'")
    older.commit()
    older.close()
    monkeypatch.setattr(jieba.dt, "initialized", False)
    assert text.query_terms("个人信息处理者的义务有哪些？") == expected
    assert WordTable(tmp_path).tokenizer("个人").FREQ["个人"] > 0
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setattr(lookup_table, "_folder", blocked)
    monkeypatch.setattr(jieba.dt, "initialized", False)
    assert text.query_terms("个人信息处理者的义务有哪些？") == expected


def test_many_texts_go_to_jiebas_own_dictionary(monkeypatch) -> None:
    from vectorstore import text

    monkeypatch.setattr(text, "_table_uses", 0)
    monkeypatch.setattr(jieba.dt, "initialized", False)
    for _ in range(text.WORD_TABLE_TEXTS):
        assert text._table_serves(20, jieba)
    assert not text._table_serves(20, jieba)
    monkeypatch.setattr(text, "_table_uses", 0)
    assert not text._table_serves(text.WORD_TABLE_TEXT + 1, jieba)
