"""Renders ranked sources as a readable table."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ...retrieval import Source
from .terminal_text import plain, styled


def print_sources(console: Console, sources: list[Source]) -> None:
    if not sources:
        console.print("no sources found")
        return
    table = Table(show_lines=True, expand=True)
    table.add_column("", no_wrap=True, style="bold")
    table.add_column("source", ratio=2, overflow="fold")
    table.add_column("passage", ratio=5)
    table.add_column("score", justify="right", no_wrap=True)
    for s in sources:
        flag = ("\n⚠ instructions?", "red") if s.extra.get("suspicious") else ""
        snippet = " ".join(plain(s.text).split())
        if len(snippet) > 300:
            snippet = snippet[:299] + "…"
        table.add_row(
            styled(s.label),
            styled((s.title, "bold"), "\n", s.citation, "\n", (s.location, "dim"), flag),
            Text(snippet),
            f"{s.score:.3f}",
        )
    console.print(table)
