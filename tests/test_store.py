"""The conversation store keeps typed exchanges through one to_dict/from_dict with a schema
version, and upgrades a file written by the first release in place."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from assistant.chat.events import AnswerStats, CitationReport, Final
from assistant.retrieval.sources import Source
from assistant.conversations import MIGRATIONS, ConversationStore, Exchange


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
