"""The root of every error a user can act on.

It lives in the lowest layer so that every area can subclass it: the knowledge base and the
embedders here, the model server, web, settings and bench in `assistant`. Its message is one
sentence that names the file, URL or setting involved and what to do next. Front-ends (the CLI,
the TUI) catch this class alone and show its message; anything else is a bug, reported in one line
with the path of a log file that holds the traceback.
"""

from __future__ import annotations


class AssistantError(RuntimeError):
    """An error the user can act on; the message says what to do."""
