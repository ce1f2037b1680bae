"""The chat app's F3 ingest into a shared base asks, as the CLI does at a terminal, before it syncs
a folder into a source that another machine's folder of the same name holds (issue 20, item 6)."""

# ruff: noqa: F811 - the fixtures of test_tui are imported by name and taken as parameters

from __future__ import annotations

from pathlib import Path

import pytest
from test_shared_sources import files_of, ingest
from test_tui import make_app, ollama, wait_until  # noqa: F401

from assistant.settings import load_settings
from tui.screens.confirm import ConfirmScreen
from tui.screens.kb import KnowledgeBaseScreen

from corpus import english, write_files

pytestmark = pytest.mark.slow


def log_of(screen: KnowledgeBaseScreen, start: int = 0) -> str:
    return "\n".join(str(line) for line in screen.query_one("#ingest-log").lines[start:])


async def test_f3_asks_before_syncing_another_machines_folder_of_the_same_name(
    tmp_path: Path, chroma_server: str, minilm, ollama
) -> None:
    url = chroma_server
    docs_a = write_files(
        tmp_path / "docsA" / "docs", {"guide.md": english("guides"), "notes.txt": english("notes")}
    )
    docs_b = write_files(tmp_path / "docsB" / "docs", {"other.md": english("others")})
    assert ingest(tmp_path / "home-a", url, docs_a).exit_code == 0
    home_b = tmp_path / "home-b"
    settings = load_settings(
        environ={
            "ASSISTANT_HOME": str(home_b),
            "ASSISTANT_CHROMA_URL": url,
            "ASSISTANT_EMBEDDER": "minilm",
            "OLLAMA_HOST": ollama.url(),
        }
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:

        async def f3_ingest() -> KnowledgeBaseScreen:
            await pilot.press("f3")
            screen = app.screen
            assert isinstance(screen, KnowledgeBaseScreen)
            screen.query_one("#kb-name").value = "team"
            screen.query_one("#kb-path").value = str(docs_b)
            await pilot.click("#ingest")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), limit=60)
            question = str(app.screen.query_one("#confirm-question").render())
            assert str(docs_a.resolve()) in question and "same folder" in question
            return screen

        # "n" (or any key but y): nothing of the other machine's is touched, and the screen says so.
        screen = await f3_ingest()
        await pilot.press("n")
        await wait_until(pilot, lambda: not app.ingesting, limit=60)
        await pilot.pause(0.2)
        assert "nothing was changed" in log_of(screen)
        assert files_of(home_b, url) == {"docs/guide.md", "docs/notes.txt"}
        await pilot.press("escape")

        # "y": the user said it is the same folder, so the sync makes the base match it.
        screen = await f3_ingest()
        before = len(screen.query_one("#ingest-log").lines)
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.ingesting, limit=120)
        await pilot.pause(0.2)
        assert "ingest into 'team' failed" not in log_of(screen, before) and "done" in log_of(screen, before)
    assert files_of(home_b, url) == {"docs/other.md"}
