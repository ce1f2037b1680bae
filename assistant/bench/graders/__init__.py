"""Graders for the bench suite, by the name a suite's tasks use (`grader: number`).

Each grader is a module with small pure functions tested on real good and bad answers
(tests/test_graders.py) and a `grade(answer, expected, sources)` entry point. Adding a grader is
adding a module and a line in GRADERS; an installed package can add one too, under the entry-point
group PLUGIN_GROUP (see vectorstore.plugins and the README's "Plugins"). The suite loader and the
runner find graders through `grader_names` and `find_grader` alone. A plugin grader that fails,
to load or on an answer, fails the results it grades, never the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vectorstore.errors import AssistantError
from vectorstore.plugins import load_plugin, plugin_names

from . import acrostic, contains, numbers, snake, web_quotes
from .acrostic import grade_acrostic, poem_lines
from .arithmetic import ExpressionError, OutOfBounds, evaluate_arithmetic
from .base import Grade, Grader
from .contains import grade_contains
from .numbers import evaluate, final_expression, grade_named_numbers, grade_number
from .snake import extract_html, grade_snake, grade_snake_static
from .stability import stability
from .web_quotes import grade_quotes_sources

GRADERS: dict[str, Grader] = {
    "acrostic": acrostic.grade,
    "number": numbers.grade,
    "named_numbers": numbers.grade_named,
    "quotes_sources": web_quotes.grade,
    "snake": snake.grade,
    "contains": contains.grade,
}


#: Where installed packages declare graders: name = "module:function", a Grader.
PLUGIN_GROUP = "r1_assistant.graders"


class GraderError(AssistantError):
    """No grader by that name, or a plugin grader that cannot be loaded."""


def grader_names() -> list[str]:
    """The built-in graders' names, then the installed plugins'."""
    return [*GRADERS, *plugin_names(PLUGIN_GROUP, besides=GRADERS)]


def find_grader(name: str) -> Grader:
    """The grader registered as `name`: built in, or an installed plugin's, guarded so that its
    failure on an answer is a failed grade naming its package."""
    if name in GRADERS:
        return GRADERS[name]
    plugin = load_plugin(PLUGIN_GROUP, name, kind="grader", accepts=callable, error=GraderError)
    if plugin is None:
        raise GraderError(f"unknown grader '{name}' (known: {', '.join(grader_names())})")

    def guarded(answer: str, expected: Mapping[str, Any], sources: Sequence[dict[str, Any]]) -> Grade:
        try:
            result = plugin.value(answer, expected, sources)
        except Exception as exc:  # a plugin's bug costs this result only
            return Grade(False, 0.0, f"the grader '{name}' from package {plugin.package} failed ({exc!r})")
        if not isinstance(result, Grade):
            return Grade(False, 0.0, f"the grader '{name}' from package {plugin.package} returned no Grade")
        return result

    return guarded


def grade(
    name: str, answer: str, expected: Mapping[str, Any], sources: Sequence[dict[str, Any]] = ()
) -> Grade:
    """Grade `answer` with the grader registered as `name` (GraderError: no such grader)."""
    return find_grader(name)(answer, expected, sources)


__all__ = [
    "GRADERS",
    "PLUGIN_GROUP",
    "GraderError",
    "ExpressionError",
    "Grade",
    "Grader",
    "OutOfBounds",
    "evaluate",
    "evaluate_arithmetic",
    "extract_html",
    "final_expression",
    "find_grader",
    "grade",
    "grade_acrostic",
    "grade_contains",
    "grade_named_numbers",
    "grade_number",
    "grade_quotes_sources",
    "grade_snake",
    "grade_snake_static",
    "grader_names",
    "poem_lines",
    "stability",
]
