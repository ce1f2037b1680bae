"""Graders for the bench suite, by the name a suite's tasks use (`grader: number`).

Each grader is a module with small pure functions tested on real good and bad answers
(tests/test_graders.py) and a `grade(answer, expected, sources)` entry point. Adding a grader is
adding a module and a line in GRADERS: the suite loader and the runner both read only GRADERS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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


def grade(
    name: str, answer: str, expected: Mapping[str, Any], sources: Sequence[dict[str, Any]] = ()
) -> Grade:
    """Grade `answer` with the grader registered as `name` (KeyError: no such grader)."""
    return GRADERS[name](answer, expected, sources)


__all__ = [
    "GRADERS",
    "ExpressionError",
    "Grade",
    "Grader",
    "OutOfBounds",
    "evaluate",
    "evaluate_arithmetic",
    "extract_html",
    "final_expression",
    "grade",
    "grade_acrostic",
    "grade_contains",
    "grade_named_numbers",
    "grade_number",
    "grade_quotes_sources",
    "grade_snake",
    "grade_snake_static",
    "poem_lines",
    "stability",
]
