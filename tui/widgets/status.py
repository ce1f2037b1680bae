"""The status bar: model, knowledge base (and how much of it is embedded), web, speed of the last
answer, context used."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from ..text import markup

#: The status line while the app loads the base in the background (tui.app's warm-up).
LOADING = "loading…"


class StatusBar(Static):
    model: reactive[str] = reactive("")
    kb: reactive[str] = reactive("")
    #: E.g. "embedding 120/577" or "71% embedded"; empty when the whole base is embedded.
    embedding: reactive[str] = reactive("")
    web: reactive[bool] = reactive(False)
    state: reactive[str] = reactive(LOADING)
    tokens_per_second: reactive[float | None] = reactive(None)
    first_token: reactive[float | None] = reactive(None)
    context: reactive[str] = reactive("")

    def render(self) -> Content:
        parts = [
            markup("[b]model[/] $model", model=self.model or "?"),
            markup("[b]kb[/] $kb", kb=self.kb or "-")
            + (markup(" [i]($embedding)[/]", embedding=self.embedding) if self.embedding else ""),
            markup("[b]web[/] " + ("[green]on[/]" if self.web else "off")),
        ]
        if self.tokens_per_second:
            parts.append(markup(f"{self.tokens_per_second:.1f} tok/s"))
        if self.first_token is not None:
            parts.append(markup(f"first token {self.first_token:.1f} s"))
        if self.context:
            parts.append(markup("ctx $context", context=self.context))
        if self.state:
            parts.append(markup("[i]$state[/]", state=self.state))
        return Content(" │ ").join(parts)
