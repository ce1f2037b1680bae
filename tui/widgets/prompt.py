"""The multi-line prompt: Enter sends, Shift+Enter or Ctrl+J starts a new line, Up and Down in an
empty prompt (or on a recalled question) walk the questions asked before, as a shell does."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea


class PromptInput(TextArea):
    class Submitted(Message):
        def __init__(self, prompt: PromptInput, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

    class UpFromEmpty(Message):
        """↑ pressed in an empty prompt with no earlier question left to recall: the screen may
        move focus to what sits above it (the example questions)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        #: Earlier questions, oldest first (the screen loads them from the session).
        self.questions: list[str] = []
        #: Which of them is shown, while walking; None when the prompt holds what was typed.
        self.recalled: int | None = None

    def remember(self, question: str) -> None:
        if not self.questions or self.questions[-1] != question:
            self.questions.append(question)
        self.recalled = None

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.prevent_default()
            event.stop()
            text = self.text.strip()
            if text:
                self.post_message(self.Submitted(self, text))
            return
        if event.key in ("up", "down") and self._walking(event.key):
            event.prevent_default()
            event.stop()
            self._walk(-1 if event.key == "up" else 1)
            return
        if event.key in ("shift+enter", "ctrl+j"):
            event.prevent_default()
            event.stop()
            self.insert("\n")
            return
        await super()._on_key(event)

    def _walking(self, key: str) -> bool:
        """Up or Down walks the history from an empty prompt, or from a recalled question left
        as it was recalled (Up on its first line, Down on its last); otherwise it moves the cursor."""
        if not self.text:
            return key == "up" or self.recalled is not None
        if self.recalled is None or self.recalled >= len(self.questions):
            return False
        if self.text != self.questions[self.recalled]:
            return False
        row = self.cursor_location[0]
        return row == 0 if key == "up" else row == self.document.line_count - 1

    def _walk(self, step: int) -> None:
        if self.recalled is None:
            if step > 0:
                return
            if not self.questions:
                self.post_message(self.UpFromEmpty())
                return
            index = len(self.questions) - 1
        else:
            index = self.recalled + step
        if index < 0:  # past the oldest question: whatever sits above the prompt
            self.post_message(self.UpFromEmpty())
            return
        if index >= len(self.questions):  # past the newest: the empty prompt again
            self.recalled = None
            self.clear()
            return
        self.recalled = index
        self.text = self.questions[index]
        self.move_cursor(self.document.end)
