"""Numeric answers: the final (boxed) expression evaluated, or named quantities (鸡 23, 兔 12)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .arithmetic import ExpressionError, OutOfBounds, evaluate_arithmetic
from .base import Grade

_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_FRAC = re.compile(r"\\d?frac\{([^{}]+)\}\{([^{}]+)\}")


def final_expression(answer: str) -> str:
    """The \\boxed{} content if any, else the last line with a number."""
    boxed = _BOXED.findall(answer)
    if boxed:
        return boxed[-1]
    lines = [line for line in answer.splitlines() if _NUMBER.search(line)]
    return lines[-1] if lines else ""


def _to_python_syntax(expression: str) -> str:
    text = (
        expression.replace("\\left", "").replace("\\right", "").replace("\\cdot", "*").replace("\\times", "*")
    )
    text = _FRAC.sub(r"((\1)/(\2))", text)
    text = re.sub(r"\\sqrt\{([^{}]+)\}", r"sqrt(\1)", text)
    text = re.sub(r"\\sqrt(\d+)", r"sqrt(\1)", text)
    text = text.replace("\\pi", "pi").replace("√", "sqrt").replace("^", "**").replace("\\approx", "=")
    text = text.replace("≈", "=").replace("−", "-").replace("×", "*").replace("÷", "/")
    return re.sub(r"\\[a-zA-Z]+", "", text).replace("{", "(").replace("}", ")")


def evaluate(expression: str) -> float | None:
    """A number from a LaTeX-ish expression such as 768 + 512\\sqrt{2} or 1492.08 (None: none).

    Model text is never `eval`ed: see `arithmetic.evaluate_arithmetic` for what is accepted.
    With several `=`, the rightmost part that is a number or arithmetic wins; a part that is
    prose keeps its last number; a part past the bounds (9**9**9**9) counts as no number.
    """
    for part in reversed(_to_python_syntax(expression).split("=")):
        candidate = re.sub(r"(\d)\s*(sqrt|pi|\()", r"\1*\2", part.strip())
        candidate = re.sub(r"sqrt(\d+(?:\.\d+)?)", r"sqrt(\1)", candidate)
        candidate = re.sub(r"(\d),(\d{3})\b", r"\1\2", candidate)  # 1,492.08
        if not candidate:
            continue
        try:
            return evaluate_arithmetic(candidate)
        except OutOfBounds:
            continue
        except ExpressionError:
            numbers = _NUMBER.findall(part)
            if numbers:
                return float(numbers[-1])
            continue
    return None


def grade_number(answer: str, expected: float, tolerance: float = 0.01) -> Grade:
    expression = final_expression(answer)
    value = evaluate(expression)
    if value is None:
        return Grade(False, 0.0, f"no final number found (last: {expression[:60]!r})")
    ok = math.isclose(value, expected, rel_tol=tolerance, abs_tol=tolerance)
    return Grade(ok, 1.0 if ok else 0.0, f"final answer {value:g}, expected {expected:g}")


def grade_named_numbers(answer: str, expected: dict[str, float]) -> Grade:
    """Each name (e.g. 鸡, 兔) is followed, in the answer's last part, by its expected number."""
    tail = answer[-600:]
    boxed = " ".join(_BOXED.findall(answer))
    wrong = []
    for name, number in expected.items():
        found = re.findall(re.escape(name) + r"[^\d\n]{0,12}?(\d+(?:\.\d+)?)", boxed + "\n" + tail)
        found += re.findall(r"(\d+(?:\.\d+)?)\s*(?:只|个|头)?\s*" + re.escape(name), boxed + "\n" + tail)
        if not any(math.isclose(float(n), number) for n in found):
            wrong.append(f"{name}={number:g}")
    if wrong:
        return Grade(False, 1 - len(wrong) / len(expected), "missing or wrong: " + ", ".join(wrong))
    return Grade(True, 1.0, ", ".join(f"{k} {v:g}" for k, v in expected.items()))


def grade(answer: str, expected: Mapping[str, Any], sources: Sequence[dict[str, Any]]) -> Grade:
    """expected: {value: 1492.08, tolerance: 0.01}."""
    return grade_number(answer, float(expected["value"]), float(expected.get("tolerance", 0.01)))


def grade_named(answer: str, expected: Mapping[str, Any], sources: Sequence[dict[str, Any]]) -> Grade:
    """expected: {鸡: 23, 兔: 12}."""
    return grade_named_numbers(answer, {k: float(v) for k, v in expected.items()})
