"""The root of every error a user can act on, and the knowledge base's own errors.

`AssistantError` lives in the lowest layer so that every area can subclass it: the knowledge base
and the embedders here, the model server, web, settings and bench in `assistant`. Its message is
one sentence that names the file, URL or setting involved and what to do next. Front-ends (the
CLI, the TUI) catch this class alone and show its message; anything else is a bug, reported in one
line with the path of a log file that holds the traceback.

The knowledge base's errors are here too (not beside the code that raises them) so that the
storage modules, which raise most of them, import nothing above themselves.
"""

from __future__ import annotations


class AssistantError(RuntimeError):
    """An error the user can act on; the message says what to do."""


class KnowledgeBaseError(AssistantError):
    """A knowledge base cannot be used as asked; the message says why and what to do."""


class NoSuchKnowledgeBaseError(KnowledgeBaseError):
    """A base that does not exist was named; the message lists the ones that do."""

    def __init__(self, name: str, existing: list[str], *, where: str = "", alternative: str = "") -> None:
        from difflib import get_close_matches

        self.name, self.existing = name, list(existing)
        listed = f"existing: {', '.join(self.existing)}" if self.existing else "there are none yet"
        close = get_close_matches(name, self.existing, n=1)
        guess = f"did you mean '{close[0]}'? " if close else ""
        super().__init__(
            f"no knowledge base named '{name}'{f' {where}' if where else ''} ({listed}); {guess}"
            f"create it with `assistant ingest PATH --kb {name}`{alternative}"
        )


class EmbedderMismatchError(KnowledgeBaseError):
    """A base is opened with another embedder than the one that built it."""


class KnowledgeBaseBusyError(KnowledgeBaseError):
    """Another process (or machine) is writing the base."""


class SharedBaseError(KnowledgeBaseError):
    """The shared base on the server cannot be used as asked; the message says why."""


class LeaseLostError(SharedBaseError):
    """Another writer took over this writer's lease; its writes were stopped."""


class SourceInUseError(SharedBaseError):
    """A folder's files would be known by a source name that another folder already uses."""


class DatabaseNewerError(AssistantError):
    """A database (a knowledge base's index, the conversation store) or a shared base's server
    record was written by a newer version of the assistant; not a knowledge-base error alone,
    since the migration runner (vectorstore.migrations) serves the conversation store too."""


class ChromaConnectionError(AssistantError):
    """The Chroma server could not be reached or answered with an error."""
