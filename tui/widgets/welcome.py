"""The first-run panel an empty conversation shows instead of a blank page: the model in use (or
the exact command that gets one), the knowledge base and its size (or how to fill it), the web
switch, and example questions from the user's own documents, picked with ↑ and Enter or 1–4."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from assistant.chat.presentation import counted
from assistant.overview import Overview

from ..text import markup


class ExamplePicked(Message):
    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question


class ExampleList(OptionList):
    """Example questions; Enter or the digit in front of one asks it."""

    async def _on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit():
            index = int(event.character) - 1
            if 0 <= index < self.option_count:
                event.stop()
                self.highlighted = index
                self.action_select()
                return
        await super()._on_key(event)


class Welcome(Vertical):
    def __init__(self, web: bool = False) -> None:
        super().__init__(id="welcome")
        self.overview: Overview | None = None
        self.web = web

    def compose(self) -> ComposeResult:
        yield Static("[b]R1 assistant[/]", classes="welcome-title")
        yield Static("checking the model server and the knowledge base…", id="welcome-facts")
        yield Static("", id="welcome-hint")
        yield ExampleList(id="welcome-examples")

    def on_mount(self) -> None:
        if self.overview is not None:  # it arrived while the panel was being put together
            self.show(self.overview)

    def show(self, overview: Overview) -> None:
        self.overview = overview
        facts = self.query("#welcome-facts")
        if not facts:  # not composed yet (on_mount shows it), or being removed (a new chat)
            return
        facts.first(Static).update(_facts(overview, self.web))
        examples = self.query_one(ExampleList)
        examples.clear_options()
        examples.add_options(
            Option(markup(f"[b]{i}[/]  $question", question=q), id=str(i))
            for i, q in enumerate(overview.examples, 1)
        )
        examples.display = bool(overview.examples)
        hint = (
            "Ask anything below, or press ↑ to pick an example (Enter or its number asks it; "
            "↑ first recalls your earlier questions)."
            if overview.examples
            else "Ask anything below. Enter sends, Shift+Enter starts a new line, F1 shows every key."
        )
        self.query_one("#welcome-hint", Static).update(hint)

    def set_web(self, web: bool) -> None:
        self.web = web
        facts = self.query("#welcome-facts")
        if self.overview is not None and facts:
            facts.first(Static).update(_facts(self.overview, web))

    def focus_examples(self) -> bool:
        examples = self.query_one(ExampleList)
        if not examples.display or not examples.option_count:
            return False
        examples.focus()
        if examples.highlighted is None:
            examples.highlighted = 0
        return True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.overview is not None:
            self.post_message(ExamplePicked(self.overview.examples[event.option_index]))


def _facts(o: Overview, web: bool):
    if o.model_problem:
        model = "$model  [b red]⚠[/] $problem" if o.model else "[b red]⚠[/] $problem"
    else:
        model = "$model"
    if o.kb_problem:
        kb = "$kb  [b red]⚠[/] $kb_problem"
    elif o.documents:
        kb = f"$kb · {counted(o.documents, 'document')}, {counted(o.chunks or 0, 'chunk')} (F3 to manage)"
    else:
        state = "is empty" if o.documents == 0 else "does not exist yet"
        kb = f"$kb {state}: press F3 to ingest a folder, or run `assistant ingest ~/Documents --kb $kb`"
    switch = "[green]on[/] for the next question" if web else "off (Ctrl+W turns it on for the next question)"
    template = "\n".join(
        [f"[b]Model[/]           {model}", f"[b]Knowledge base[/]  {kb}", f"[b]Web search[/]      {switch}"]
    )
    return markup(
        template, model=o.model or "?", problem=o.model_problem or "", kb=o.kb, kb_problem=o.kb_problem or ""
    )
