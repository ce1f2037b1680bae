"""The status bar: model, knowledge base, web, speed of the last answer, context used."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static


class StatusBar(Static):
    model: reactive[str] = reactive("")
    kb: reactive[str] = reactive("")
    web: reactive[bool] = reactive(False)
    state: reactive[str] = reactive("loading…")
    tokens_per_second: reactive[float | None] = reactive(None)
    first_token: reactive[float | None] = reactive(None)
    context: reactive[str] = reactive("")

    def render(self) -> str:
        parts = [
            f"[b]model[/] {self.model or '?'}",
            f"[b]kb[/] {self.kb or '-'}",
            "[b]web[/] " + ("[green]on[/]" if self.web else "off"),
        ]
        if self.tokens_per_second:
            parts.append(f"{self.tokens_per_second:.1f} tok/s")
        if self.first_token is not None:
            parts.append(f"first token {self.first_token:.1f} s")
        if self.context:
            parts.append(f"ctx {self.context}")
        if self.state:
            parts.append(f"[i]{self.state}[/]")
        return " │ ".join(parts)
