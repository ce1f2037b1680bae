"""Leases that cannot lock a shared base forever: absurd and malformed leases written straight to a
real `chroma run` by a plain Chroma client are stale, and `assistant kb unlock` breaks a stuck one
after naming its holder and asking."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.cli import context as cli_context
from ingest import sync
from vectorstore import KnowledgeBase, KnowledgeBaseBusyError, kb_writer
from vectorstore.storage.shared.lease import lease_states
from vectorstore.storage.shared.names import Layout

from corpus import english, write_files
from fakes_chroma import plain_client

pytestmark = pytest.mark.slow


def next_lease(url: str, name: str, metadata: dict[str, Any] | None, generation: int | None = None) -> None:
    """A lease collection made by a plain client: the next generation, or `generation`."""
    client = plain_client(url)
    if generation is None:
        states = lease_states(client, Layout(name))
        generation = states[-1].generation + 1 if states else 1
    client.create_collection(f"kb.{name}.lease.{generation}", metadata=metadata)


def test_absurd_and_malformed_leases_do_not_lock_the_base(tmp_path: Path, chroma_server: str, minilm) -> None:
    home = tmp_path / "home"
    now = time.time()
    leases: list[tuple[dict[str, Any] | None, int | None]] = [
        ({"holder": "mallory@x (pid 1)", "since": now, "expires": 1e15, "released": False}, None),
        ({"holder": "mallory@x (pid 1)", "since": "noon", "expires": "never", "released": False}, None),
        ({"holder": "m", "since": 1e308, "expires": float(2**1000), "released": "no"}, None),
        ({"holder": 42, "since": now, "expires": now + 60, "released": False}, None),
        (None, None),  # made by a plain client: no metadata, Chroma's default embedding function
        ({"holder": "x", "since": now, "expires": now + 60, "released": False}, 10**20),
    ]
    with KnowledgeBase.open(home, "locks", embedder="minilm", chroma_url=chroma_server) as kb:
        for number, (metadata, generation) in enumerate(leases):
            next_lease(chroma_server, "locks", metadata, generation)
            folder = write_files(tmp_path / f"notes{number}", {"a.md": english(f"topic{number}")})
            summary = sync(kb, folder)
            assert summary.files_added == 1, metadata
        assert kb.stats().documents == len(leases)


def test_a_live_lease_names_its_holder_without_control_characters(
    tmp_path: Path, chroma_server: str, minilm, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    folder = write_files(tmp_path / "notes", {"a.md": english("herons")})
    with KnowledgeBase.open(home, "stuck", embedder="minilm", chroma_url=chroma_server) as kb:
        sync(kb, folder)
        holder = "eve\x1b[2J\x1b]0;owned\x07@host\u202egnp.exe\u2066 (pid 7)"
        now = time.time()
        live = {"holder": holder, "since": now, "expires": now + 90, "released": False}
        next_lease(chroma_server, "stuck", live)
        with pytest.raises(KnowledgeBaseBusyError) as busy:
            sync(kb, folder)
        message = str(busy.value)
        assert "eve[2J]0;owned@hostgnp.exe (pid 7)" in message and "kb unlock stuck" in message
        assert not any(c in message for c in "\x1b\x07\u202e\u2066")

        env = {"ASSISTANT_HOME": str(home), "ASSISTANT_CHROMA_URL": chroma_server}
        refused = CliRunner().invoke(app, ["kb", "unlock", "stuck"], env=env)  # not a terminal
        assert refused.exit_code == 1 and "pass --yes" in refused.stderr
        assert "eve[2J]0;owned@hostgnp.exe" in refused.stderr and "\x1b" not in refused.stderr
        monkeypatch.setattr(cli_context, "can_ask", lambda: True)
        kept = CliRunner().invoke(app, ["kb", "unlock", "stuck"], env=env, input="n\n")
        assert kept.exit_code == 1 and "nothing was changed" in kept.stderr
        assert kb_writer(home, "stuck", chroma_server) is not None
        broken = CliRunner().invoke(app, ["kb", "unlock", "stuck"], env=env, input="y\n")
        assert broken.exit_code == 0 and "broke the write lease" in broken.stderr, broken.stderr
        assert kb_writer(home, "stuck", chroma_server) is None
        assert sync(kb, write_files(folder, {"b.md": english("cranes")})).files_added == 1
        again = CliRunner().invoke(app, ["kb", "unlock", "stuck", "--yes"], env=env)
        assert again.exit_code == 0 and "nothing to unlock" in again.stderr


def test_unlock_breaks_only_the_lease_it_showed(tmp_path: Path, chroma_server: str, minilm) -> None:
    from vectorstore import unlock_kb
    from vectorstore.errors import SharedBaseError

    home = tmp_path / "home"
    with KnowledgeBase.open(home, "handover", embedder="minilm", chroma_url=chroma_server) as kb:
        kb.begin_write()
        shown = kb_writer(home, "handover", chroma_server)
        assert shown is not None and "since" in shown.detail
        kb.end_write()
        kb.begin_write()  # another writer took the base meanwhile
        try:
            with pytest.raises(SharedBaseError, match="changed hands"):
                unlock_kb(home, "handover", shown, chroma_server)
        finally:
            kb.end_write()


def test_unlock_of_a_base_on_this_machine(tmp_path: Path, minilm) -> None:
    home = tmp_path / "home"
    KnowledgeBase.open(home, "mine", embedder="minilm").close()
    env = {"ASSISTANT_HOME": str(home)}
    free = CliRunner().invoke(app, ["kb", "unlock", "mine", "--yes"], env=env)
    assert free.exit_code == 0 and "nothing to unlock" in free.stderr
    with KnowledgeBase.open(home, "mine") as kb:
        kb.begin_write()
        try:
            held = CliRunner().invoke(app, ["kb", "unlock", "mine", "--yes"], env=env)
            assert held.exit_code == 1 and "stop that process" in held.stderr
        finally:
            kb.end_write()
