"""Chat habits (issue 18, item 5), headless against the fakes: prompt history across launches,
copying the last answer, a failed question that stays with a retry, focus after dialogs, the
footer at 80 columns, the model picker's mark and memory, F3's Enter, F4's keys, the status
bar, reasoning times, stopped code blocks, Open and the KB screen's failures."""

# ruff: noqa: F811 - the fixtures of test_tui are imported by name and taken as parameters

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from test_tui import R1, ask, make_app, markdown_text, ollama, settings, wait_for_answer, wait_until  # noqa: F401
from textual.widgets import DataTable, Footer, OptionList

from assistant.retrieval.sources import Source
from assistant.session import Session
from tui.app import AssistantApp
from tui.clipboard import clipboard_note
from tui.screens.help import HelpScreen
from tui.screens.history import HistoryScreen
from tui.screens.kb import KnowledgeBaseScreen
from tui.screens.source import SourceScreen, file_url, web_url
from tui.widgets.message import ChatMessage, Reasoning
from tui.widgets.prompt import PromptInput
from tui.widgets.status import StatusBar

from corpus import write_files
from fakes_ollama import Reply


async def type_question(pilot, text: str) -> None:
    await pilot.press(*text)
    await pilot.press("enter")
    await wait_for_answer(pilot)


async def test_up_and_down_walk_earlier_questions_across_launches(settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_question(pilot, "first")
        await type_question(pilot, "second")
        prompt = app.screen.query_one(PromptInput)
        await pilot.press("up")
        assert prompt.text == "second"
        await pilot.press("up")
        assert prompt.text == "first"
        await pilot.press("down")
        assert prompt.text == "second"
        await pilot.press("down")
        assert prompt.text == ""
    again = make_app(settings)  # a new launch remembers them
    async with again.run_test(size=(100, 30)) as pilot:
        prompt = again.screen.query_one(PromptInput)
        await wait_until(pilot, lambda: prompt.questions == ["first", "second"])
        await pilot.press("up")
        assert prompt.text == "second"


async def test_copy_the_last_answer_through_the_terminal(settings) -> None:
    app = AssistantApp(
        settings, Session(settings), clipboard_note=clipboard_note({"TERM": "xterm", "TMUX": "x"})
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+o")
        assert any("no answer" in n.message for n in app._notifications)
        await ask(pilot, "杜甫的《登高》写了什么？")
        await pilot.press("ctrl+o")
        assert app.clipboard == "《登高》写秋天登高所见 [K1]。"
        note = [n.message for n in app._notifications][-1]
        assert "OSC 52" in note and "set-clipboard on" in note  # says why tmux may not take it


def test_the_terminals_that_cannot_copy_are_named() -> None:
    assert clipboard_note({"TERM": "xterm-256color"}) is None
    assert "mouse" in clipboard_note({"TERM": "linux"})
    assert "macOS Terminal" in clipboard_note({"TERM": "xterm", "TERM_PROGRAM": "Apple_Terminal"})
    assert "screen" in clipboard_note({"TERM": "screen-256color"})


async def test_a_failed_question_stays_with_its_error_and_retries(settings, ollama) -> None:
    ollama.script(R1, Reply(error="model runner crashed"), Reply(answer="现在好了。"))
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, "你好？")
        (message,) = app.screen.query(ChatMessage)
        assert message.error and "crashed" in str(message.stats.render())
        status = app.screen.query_one(StatusBar)
        await wait_until(pilot, lambda: "Ctrl+R" in status.state)  # set just after the message
        assert status.tokens_per_second is None
        saved = app.session.open_conversation(app.conversation_id)[1]
        assert saved[0].error and saved[0].question == "你好？"
        await pilot.press("ctrl+r")
        await wait_for_answer(pilot)
        (message,) = app.screen.query(ChatMessage)  # the failure gave way to the answer
        assert markdown_text(message.answer) == "现在好了。" and not message.error
        assert status.tokens_per_second


async def test_focus_returns_to_the_prompt_and_typing_goes_there(settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.focused, PromptInput)
        await pilot.press("tab")  # a detour to the web switch
        assert not isinstance(app.focused, PromptInput)
        await pilot.press("?")
        assert not isinstance(app.screen, HelpScreen), "a typed ? is a question mark"
        assert isinstance(app.focused, PromptInput) and app.focused.text == "?"


async def test_the_footer_shows_f1_to_f4_at_80_columns(settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        footer = app.screen.query_one(Footer)

        def shown() -> list[str]:
            keys = footer.query("FooterKey")
            return [k.key_display.lower() for k in keys if k.region.width and k.region.right <= 80]

        await wait_until(pilot, lambda: len(shown()) >= 4)
        for key in ("f1", "f2", "f3", "f4"):
            assert key in shown(), shown()


async def test_f2_marks_the_model_in_use_and_remembers_the_pick(settings, ollama, home) -> None:
    ollama.add_model("deepseek-r1:1.5b")
    app = make_app(dataclasses.replace(settings, model=R1))
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, "第一个问题")
        first = app.conversation_id
        await pilot.press("f2")
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count >= 7)
        keys = [row.value for row in table.rows]
        assert table.cursor_row == keys.index(R1)  # the cursor starts on the model in use
        assert "▶" in str(table.get_row_at(keys.index(R1))[0])
        table.move_cursor(row=keys.index("deepseek-r1:1.5b"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.model == "deepseek-r1:1.5b")
        assert tomllib.loads((home / "config.toml").read_text())["model"] == "deepseek-r1:1.5b"
        assert app.session.open_conversation(first)[0].model == "deepseek-r1:1.5b"


async def test_enter_in_the_path_field_starts_the_ingest(settings, tmp_path) -> None:
    folder = write_files(tmp_path / "more", {"ducks.md": "# Ducks\n\nDucks swim.\n"})
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, KnowledgeBaseScreen)
        screen.query_one("#kb-name").value = "more"
        screen.query_one("#kb-path").focus()
        await pilot.press(*str(folder), "enter")
        await wait_until(pilot, lambda: "more" in app.session.knowledge_bases() and not app.ingesting)
        await pilot.pause(0.2)
        log = "\n".join(str(line) for line in screen.query_one("#ingest-log").lines)
        assert "done" in log


async def test_a_failed_first_ingest_stops_the_bar_keeps_the_error_and_leaves_no_base(
    settings, tmp_path
) -> None:
    folder = write_files(tmp_path / "notes", {"a.md": "# A\n\ntext\n"})
    broken = dataclasses.replace(settings, embedder="ollama:not-pulled")  # the fake has no such model
    app = make_app(broken)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")
        screen = app.screen
        screen.query_one("#kb-name").value = "fresh"
        screen.query_one("#kb-path").value = str(folder)
        await pilot.click("#ingest")
        await wait_until(pilot, lambda: not app.ingesting)
        await pilot.pause(0.2)
        log = "\n".join(str(line) for line in screen.query_one("#ingest-log").lines)
        assert "ingest into 'fresh' failed" in log
        assert not screen.query_one("#ingest-progress").display  # the bar stopped
        await pilot.press("escape")
        await pilot.press("f3")  # reopened: the error is still there
        log = "\n".join(str(line) for line in app.screen.query_one("#ingest-log").lines)
        assert "failed" in log


async def test_f4_acts_on_the_highlighted_row_and_asks_before_deleting(settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, "一")
        await pilot.press("f4")
        assert isinstance(app.screen, HistoryScreen)
        assert app.screen.query_one(OptionList).highlighted == 0
        await pilot.press("d")
        assert "Delete" in str(app.screen.query_one("#history-question").render())
        await pilot.press("escape")  # any key but y keeps it
        assert len(app.session.list_conversations()) == 1
        await pilot.press("d", "y")
        assert app.session.list_conversations() == []


async def test_status_says_answering_for_a_model_that_does_not_think(settings, ollama) -> None:
    ollama.script(R1, Reply(reasoning="", answer="答" * 200, delay=0.02))
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.screen.query_one(PromptInput)
        prompt.text = "你好"
        await pilot.press("enter")
        status = app.screen.query_one(StatusBar)
        seen = set()
        while not (app.chat.answering and app.chat.answering.is_finished):
            seen.add(status.state)
            await pilot.pause(0.02)
        assert any("answering" in s for s in seen) and not any("thinking" in s for s in seen)


async def test_the_folded_reasoning_and_the_stats_line_agree(settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        message = await ask(pilot, "杜甫的《登高》写了什么？")
        title = str(message.query_one(Reasoning).title)
        assert title.lower() in str(message.stats.render())


async def test_a_stopped_answer_closes_its_code_block_first(settings, ollama) -> None:
    ollama.script(R1, Reply(answer="代码：\n\n```python\n" + "x = 1\n" * 200, delay=0.02))
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.screen.query_one(PromptInput)
        prompt.text = "写代码"
        await pilot.press("enter")
        message = app.screen.query_one(ChatMessage)
        await wait_until(pilot, lambda: "x = 1" in message.answer_text)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.chat.answering.is_finished)
        await pilot.pause(0.2)
        assert markdown_text(message.answer).endswith("```\n\n*(stopped)*")


def test_open_passes_only_web_urls_and_existing_local_files(tmp_path: Path) -> None:
    assert web_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "-oProxyCommand=x", "http://", "ftp://x/y"):
        assert web_url(bad) is None
    pdf = tmp_path / "a b#c.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    assert file_url(pdf, page=3) == pdf.as_uri() + "#page=3"
    assert "%20" in file_url(pdf) and "%23" in file_url(pdf)  # a name cannot break the URL
    assert file_url(tmp_path / "missing.pdf") is None
    assert file_url(Path("relative.md")) is None


async def test_open_says_so_when_there_is_no_file_here(settings, tmp_path) -> None:
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        gone = Source("kb", "t", "/nowhere/x.md", "text", 0.0, "c1", "K1", uri="/nowhere/x.md")
        app.push_screen(SourceScreen(gone))
        await pilot.pause(0.1)
        await pilot.press("o")
        assert any("cannot be opened" in n.message for n in app._notifications)


def test_a_shared_bases_file_is_opened_only_where_its_folder_is_ingested_here(tmp_path: Path) -> None:
    from assistant.settings import load_settings

    folder = write_files(tmp_path / "team-docs", {"guide.md": "# G\n"})
    settings = load_settings(environ={"ASSISTANT_HOME": str(tmp_path / "home")})
    shared = dataclasses.replace(settings, chroma_url="http://127.0.0.1:9")
    session = Session(shared)
    assert session.local_copy("team-docs/guide.md") is None  # never ingested here
    session._remember_mount(folder, None)
    assert session.local_copy("team-docs/guide.md") == folder / "guide.md"
    assert session.local_copy("team-docs/../team-docs/guide.md") is None
    assert session.local_copy("other/guide.md") is None
    assert Session(settings).local_copy(str(folder / "guide.md")) == folder / "guide.md"


def test_example_questions_come_from_titles_headings_and_sentences_never_file_names() -> None:
    from assistant.overview import DocumentOpening, example_questions

    questions = example_questions(
        [
            DocumentOpening("word sample", "/d/word_sample.docx", "", "Summer activities. Check these out."),
            DocumentOpening("report", "/d/report.pdf", "Quarterly results | Costs", "Revenue grew."),
            DocumentOpening("登高", "/d/poem.md", "登高", "风急天高猿啸哀。"),
            DocumentOpening("notes_2024.txt", "/d/notes_2024.txt", "", ""),  # nothing to ask about
        ]
    )
    assert "What is meant by “Summer activities”?" in questions
    assert "What are the key points of “Quarterly results”?" in questions
    assert "《登高》的要点是什么？" in questions
    assert not any("word sample" in q or "report" in q or "notes" in q for q in questions)
