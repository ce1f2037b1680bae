"""The chat app, headless (`App.run_test()`), against the fake Ollama server, the fake SearxNG
and the page server: every user-facing behaviour of issue 5."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Markdown, OptionList, Switch

from assistant.conversations import ConversationStore
from assistant.session import Session
from assistant.settings import load_settings
from ingest import sync
from tui.app import AssistantApp, embedded_share
from tui.screens.help import HelpScreen
from tui.screens.history import HistoryScreen
from tui.screens.kb import KnowledgeBaseScreen
from tui.screens.models import ModelScreen
from tui.screens.source import SourceScreen
from tui.widgets.message import ChatMessage, Reasoning, SourceList
from tui.widgets.prompt import PromptInput
from tui.widgets.status import StatusBar

from corpus import write_files
from fakes_ollama import FakeOllamaServer, Reply
from fakes_searxng import FakeSearxng, Hit

R1 = "deepseek-r1:7b"
#: Where `docs/screenshots.py` asks for the README's pictures; a plain test run writes its
#: screenshots under tmp_path, never into the tree.
SCREENSHOTS_ENV = "R1_ASSISTANT_SCREENSHOTS"


@pytest.fixture
def ollama() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.add_model(R1)
        server.script(
            R1,
            Reply(reasoning="先想一想这首诗。", answer="《登高》写秋天登高所见 [K1]。", tokens_per_second=40),
        )
        yield server


@pytest.fixture
def settings(home: Path, ollama: FakeOllamaServer, searxng: FakeSearxng, open_kb, tmp_path: Path):
    kb = open_kb()
    sync(
        kb,
        write_files(
            tmp_path / "notes", {"poem.md": "# 登高\n\n杜甫《登高》：风急天高猿啸哀，渚清沙白鸟飞回。\n"}
        ),
    )
    kb.close()
    return load_settings(
        environ={
            "ASSISTANT_HOME": str(home),
            "OLLAMA_HOST": ollama.url(),
            "ASSISTANT_SEARCH_ENGINE": "searxng",
            "ASSISTANT_SEARXNG_URL": searxng.url(),
            "ASSISTANT_ALLOW_PRIVATE_URLS": "1",
            "ASSISTANT_WEB_BUDGET": "4",
        }
    )


@pytest.fixture
def screenshot(tmp_path: Path):
    """`screenshot(app, "name.svg")` saves the screen and checks the file is a non-empty SVG."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)

    def save(app: AssistantApp, name: str) -> Path:
        path = folder / name
        app.save_screenshot(name, path=str(folder))
        assert path.read_text(encoding="utf-8").lstrip().startswith("<svg")
        return path

    return save


def make_app(settings) -> AssistantApp:
    return AssistantApp(settings, Session(settings))


async def ask(pilot, question: str) -> ChatMessage:
    app = pilot.app
    prompt = app.screen.query_one(PromptInput)
    prompt.text = question
    prompt.focus()
    await pilot.press("enter")
    await wait_for_answer(pilot)
    return list(app.screen.query(ChatMessage))[-1]


async def wait_for_answer(pilot, limit: float = 30) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    await pilot.pause(0.05)
    while loop.time() < deadline:
        worker = pilot.app.chat.answering
        if worker is not None and worker.is_finished:
            break
        await pilot.pause(0.05)
    else:
        raise AssertionError("the answer did not finish in time")
    await pilot.pause(0.1)


async def wait_until(pilot, condition, limit: float = 30) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


def markdown_text(widget: Markdown) -> str:
    return widget.source


async def test_opens_to_a_prompt_and_finds_the_model(settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.focused, PromptInput)
        await wait_until(pilot, lambda: app.model == R1)
        assert app.screen.query_one(StatusBar).model == R1


async def test_question_streams_answer_with_folded_reasoning_and_sources(settings, ollama) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 40)) as pilot:
        message = await ask(pilot, "杜甫的《登高》写了什么？")
        assert markdown_text(message.answer) == "《登高》写秋天登高所见 [K1]。"
        reasoning = message.query_one(Reasoning)
        assert reasoning.collapsed and reasoning.title.startswith("Thought for ")
        assert markdown_text(reasoning.body) == "先想一想这首诗。"
        sources = message.query_one(SourceList)
        assert "K1" in str(sources.get_option_at_index(0).prompt)
        status = app.screen.query_one(StatusBar)
        assert status.tokens_per_second == pytest.approx(40, rel=0.01)
        assert status.context.endswith("/8192")
        # Persisted, and the history went into the next question without reasoning.
        assert [e.question for e in app.session.open_conversation(app.conversation_id)[1]] == [
            "杜甫的《登高》写了什么？"
        ]
        await ask(pilot, "他还写了什么？")
        sent = ollama.last_chat.messages
        assert [m["role"] for m in sent] == ["user", "assistant", "user"]
        assert sent[1]["content"] == "《登高》写秋天登高所见 [K1]。"


async def test_networked_summary_scenario_with_web_search(
    settings, ollama, searxng, pages, screenshot
) -> None:
    searxng.hits = [Hit(pages.url("/denggao"), "杜甫《登高》赏析", "《登高》是杜甫的七言律诗")]
    ollama.script(R1, Reply(reasoning="网页说这是七律。", answer="《登高》是杜甫的七言律诗，写秋景 [W1]。"))
    app = make_app(settings)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("ctrl+w")
        assert app.screen.query_one("#web-toggle", Switch).value is True
        assert app.screen.query_one(StatusBar).web is True
        message = await ask(pilot, "杜甫的《登高》写了什么？")
        assert message.web
        assert "🌐 web" in str(message.query(".question").first().render())
        assert message.query_one(Reasoning).collapsed
        labels = [
            str(message.query_one(SourceList).get_option_at_index(i).prompt)
            for i in range(message.query_one(SourceList).option_count)
        ]
        assert any("[W1]" in label.replace("\\", "") and "127.0.0.1" in label for label in labels)
        assert [r.params.get("q") for r in searxng.searches] == [["杜甫的《登高》写了什么？"]]
        assert "W1" in ollama.last_chat.prompt
        screenshot(app, "tui-web-answer.svg")


async def test_escape_stops_the_answer_and_keeps_what_arrived(settings, ollama) -> None:
    ollama.script(R1, Reply(reasoning="", answer="一 二 三 四 五 六 七 八 九 十 " * 20, delay=0.05))
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.screen.query_one(PromptInput)
        prompt.text = "数一数"
        await pilot.press("enter")
        message = app.screen.query_one(ChatMessage)
        await wait_until(pilot, lambda: len(message.answer_text) > 10)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.chat.answering.is_finished)
        await pilot.pause(0.2)
        assert markdown_text(message.answer).endswith("*(stopped)*")
        assert app.session.open_conversation(app.conversation_id)[1][0].answer.startswith("一 二")


async def test_new_chat_help_and_reasoning_toggle(settings, screenshot) -> None:
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, "hello")
        await pilot.press("ctrl+t")
        assert not app.screen.query_one(Reasoning).collapsed
        await pilot.press("ctrl+t")
        assert app.screen.query_one(Reasoning).collapsed
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        screenshot(app, "tui-help.svg")
        await pilot.press("escape")
        await pilot.press("ctrl+n")
        await pilot.pause(0.1)
        assert not app.screen.query(ChatMessage) and app.conversation_id is None


async def test_selecting_a_source_shows_its_passage(settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 40)) as pilot:
        message = await ask(pilot, "杜甫的《登高》写了什么？")
        sources = message.query_one(SourceList)
        sources.focus()
        sources.highlighted = 0
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, SourceScreen)
        assert "风急天高" in app.screen.source.text
        assert app.screen.source.location.endswith("poem.md › 登高")
        await pilot.press("escape")


async def test_model_picker_lists_catalogue_and_pulls(settings, ollama, screenshot) -> None:
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        screen = app.screen
        assert isinstance(screen, ModelScreen)
        table = screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count >= 7)
        keys = [row.value for row in table.rows]
        assert keys[0] == R1 and "deepseek-r1:1.5b" in keys and "deepseek-r1:671b" in keys
        screenshot(app, "tui-models.svg")
        table.focus()
        table.move_cursor(row=keys.index("deepseek-r1:1.5b"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ModelScreen))
        assert app.model == "deepseek-r1:1.5b"
        assert "deepseek-r1:1.5b" in [m.name for m in Session(settings).assistant.backend.list_models()]


async def test_knowledge_base_screen_ingests_in_the_background(settings, tmp_path, screenshot) -> None:
    folder = write_files(tmp_path / "more", {"ducks.md": "# Ducks\n\nDucks swim.\n", "empty.txt": b""})
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, KnowledgeBaseScreen)
        screen.query_one("#kb-name").value = "more"
        screen.query_one("#kb-path").value = str(folder)
        await pilot.click("#ingest")
        await wait_until(pilot, lambda: "more" in app.session.knowledge_bases())
        await wait_until(
            pilot, lambda: not any(w.group == "ingest" and not w.is_finished for w in app.workers)
        )
        await pilot.pause(0.2)
        log = "\n".join(str(line) for line in screen.query_one("#ingest-log").lines)
        assert "failed" in log and "empty.txt" in log
        assert "searchable now" in log and "embedded" in log  # both phases are shown
        screenshot(app, "tui-knowledge.svg")
        options = screen.query_one("#kbs", OptionList)
        names = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert names == ["default", "more"]
        options.focus()
        options.highlighted = 1
        await wait_until(pilot, lambda: "embedded: all" in str(screen.query_one("#kb-stats").content))
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert app.kb == "more" and app.screen.query_one(StatusBar).kb == "more"


def test_status_bar_says_how_much_of_the_base_is_embedded() -> None:
    assert embedded_share(150, 600) == "25% embedded"
    assert embedded_share(600, 600) == embedded_share(None, None) == embedded_share(0, 0) == ""
    bar = StatusBar()
    bar.kb, bar.embedding = "notes", "embedding 120/577"
    assert "notes (embedding 120/577)" in str(bar.render())


async def test_history_reopen_rename_delete_export(settings, home) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, "第一个问题")
        first = app.conversation_id
        await pilot.press("ctrl+n")
        await ask(pilot, "second question")
        await pilot.press("f4")
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        options = screen.query_one(OptionList)
        assert options.option_count == 2
        options.highlighted = [options.get_option_at_index(i).id for i in range(2)].index(str(first))
        await pilot.press("e")
        exported = home / "exports" / f"conversation-{first}.md"
        assert "## 第一个问题" in exported.read_text(encoding="utf-8")
        await pilot.press("r")
        await pilot.press(*"Poems", "enter")
        assert app.session.open_conversation(first)[0].title == "Poems"
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.conversation_id == first
        assert [m.question for m in app.screen.query(ChatMessage)] == ["第一个问题"]
        await pilot.press("f4")
        app.screen.query_one(OptionList).highlighted = 0
        await pilot.press("d")
        assert len(app.session.list_conversations()) == 2, "delete asks first"
        await pilot.press("n")
        assert len(app.session.list_conversations()) == 2
        await pilot.press("d", "y")
        assert len(app.session.list_conversations()) == 1


async def test_a_conversation_store_from_a_newer_version_is_a_notification(settings, home) -> None:
    store = ConversationStore(home / "conversations.sqlite")
    store.db.execute("INSERT INTO _migrations VALUES ('m009_folders', 1.0)")
    store.close()
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f4")
        assert not isinstance(app.screen, HistoryScreen)
        notes = [n.message for n in app._notifications]
        assert any("newer version of the assistant" in n and "m009_folders" in n for n in notes)
        await ask(pilot, "still answered?")  # the chat goes on; only saving it is refused
        assert any("could not save the conversation" in n.message for n in app._notifications)


async def test_ollama_not_running_is_a_notification_and_keeps_the_conversation(settings) -> None:
    down = dataclasses.replace(settings, ollama_host="http://127.0.0.1:9", model=R1)
    app = make_app(down)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, "hello?")
        notes = [n.message for n in app._notifications]
        assert any("ollama serve" in n for n in notes)
        assert app.screen.query(ChatMessage)  # the question stays on screen


async def test_wide_terminal_and_screenshot(settings, screenshot) -> None:
    app = make_app(settings)
    async with app.run_test(size=(160, 45)) as pilot:
        await ask(pilot, "杜甫的《登高》写了什么？")
        screenshot(app, "tui-chat.svg")
        app.theme = "textual-light"  # colours come from the theme: both must read
        await pilot.pause(0.1)
        assert app.screen.query_one(StatusBar).styles.background != app.screen.styles.background
        screenshot(app, "tui-chat-light.svg")


# --- first run (issue 9) ------------------------------------------------------------------------
def welcome_text(app) -> str:
    from tui.widgets.welcome import Welcome

    welcome = app.chat.welcome
    assert isinstance(welcome, Welcome), "an empty conversation shows the first-run panel"
    facts = str(welcome.query_one("#welcome-facts").render())
    options = welcome.query_one("#welcome-examples", OptionList)
    examples = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    return "\n".join([facts, *examples])


async def test_first_run_panel_names_model_base_web_and_examples_from_titles(settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_until(pilot, lambda: app.chat.welcome.overview is not None)
        text = welcome_text(app)
        assert R1 in text
        assert "1 document," in text and "1 chunk " in text
        assert "Web search" in text and "off" in text
        assert "《登高》的要点是什么？" in text  # drawn from the base's own document title

        app.action_toggle_web()
        await pilot.pause()
        assert "on for the next question" in welcome_text(app)

        # ↑ in the empty prompt moves to the examples; their number asks one.
        app.screen.query_one(PromptInput).focus()
        await pilot.press("up")
        await pilot.press("1")
        await wait_for_answer(pilot)
        message = list(app.screen.query(ChatMessage))[-1]
        assert message.question == "《登高》的要点是什么？"
        assert app.chat.welcome is None, "the panel leaves once the conversation starts"

        await app.action_new_chat()
        await wait_until(pilot, lambda: app.chat.welcome is not None and app.chat.welcome.overview)


async def test_first_run_without_ollama_says_how_to_start_it(home: Path, tmp_path: Path) -> None:
    from fakes_loopback import free_port

    settings = load_settings(
        environ={"ASSISTANT_HOME": str(home), "OLLAMA_HOST": f"http://127.0.0.1:{free_port()}"}
    )
    app = make_app(settings)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_until(pilot, lambda: app.chat.welcome.overview is not None)
        text = welcome_text(app)
        assert "ollama serve" in text
        assert "assistant ingest" in text and "F3" in text  # no base yet: how to add documents


async def test_first_run_with_its_chroma_server_down_says_so_in_the_panel(home: Path) -> None:
    from fakes_loopback import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    settings = load_settings(
        environ={"ASSISTANT_HOME": str(home), "OLLAMA_HOST": closed, "ASSISTANT_CHROMA_URL": closed}
    )
    app = make_app(settings)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_until(pilot, lambda: app.chat.welcome.overview is not None)
        text = welcome_text(app)
        assert "cannot reach the Chroma server" in text and "chroma run" in text
        assert isinstance(app.chat.query_one(PromptInput), PromptInput)  # the app stays usable


async def test_first_run_with_no_model_installed_names_the_pull_command(home: Path) -> None:
    with FakeOllamaServer() as server:
        settings = load_settings(environ={"ASSISTANT_HOME": str(home), "OLLAMA_HOST": server.url()})
        app = make_app(settings)
        async with app.run_test(size=(110, 36)) as pilot:
            await wait_until(pilot, lambda: app.chat.welcome.overview is not None)
            assert "assistant models pull deepseek-r1:" in welcome_text(app)
