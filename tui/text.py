"""Untrusted text (titles, paths, passages, answers, notices) in widgets: never read as markup.

Widgets build their lines with `markup("[b]$title[/] [dim]$where[/]", title=..., where=...)`:
the template is markup, the values are plain text (control sequences removed), so `[/]` in a
title neither crashes a widget nor `[bold]` restyles it.
"""

from __future__ import annotations

from textual.content import Content

from assistant.cli.views.terminal_text import StreamCleaner, plain


def markup(template: str, **values: object) -> Content:
    """`template` as Textual markup with each `$name` replaced by the plain text of `values[name]`."""
    return Content.from_markup(template, **{name: plain(value) for name, value in values.items()})


__all__ = ["StreamCleaner", "markup", "plain"]
