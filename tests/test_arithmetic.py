"""The bench's answer evaluator never runs model text: hostile expressions are refused quickly,
ordinary maths answers still grade."""

from __future__ import annotations

import time

import pytest

from assistant.bench.graders import (
    GRADERS,
    ExpressionError,
    OutOfBounds,
    evaluate,
    evaluate_arithmetic,
    grade,
)
from assistant.bench.graders.arithmetic import MAX_LENGTH

HOSTILE_BOUNDS = [
    "9**9**9**9",
    "9**9**9",
    "10**400",
    "2**-5000",
    "(10**99)*(10**99)",
    "1e308*10",
    "2" * 400,
    "-(" * 60 + "1" + ")" * 60,
    "+".join(["1"] * 150),
    "exp(1000)",
]
HOSTILE_SYNTAX = [
    "__import__('os').system('true')",
    "().__class__.__bases__[0].__subclasses__()",
    "sqrt.__globals__",
    "(lambda: 1)()",
    "[x for x in range(10**9)]",
    "open('/etc/passwd')",
    "x",
    "sqrt(4, 2)",
    "sqrt(x=4)",
    "'1' + '2'",
    "True + 1",
    "1j * 1j",
    "1 if 1 else 2",
    "1 < 2",
    "pi.real",
    "sqrt",
    "eval('1')",
    "1 // 0",
    "7 % 3",
    "1 / 0",
    "log(-1)",
    "(-8) ** (1/3)",
]


@pytest.mark.parametrize("text", HOSTILE_BOUNDS)
def test_expressions_past_the_bounds_are_refused_fast(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(OutOfBounds):
        evaluate_arithmetic(text)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("text", HOSTILE_SYNTAX)
def test_anything_but_arithmetic_is_refused(text: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate_arithmetic(text)


def test_long_input_is_refused_before_parsing() -> None:
    with pytest.raises(OutOfBounds, match="longer than"):
        evaluate_arithmetic("1+" * MAX_LENGTH + "1")
    with pytest.raises(OutOfBounds):
        evaluate_arithmetic("(" * 10_000)


def test_the_time_limit_holds() -> None:
    with pytest.raises(OutOfBounds, match="too long"):
        evaluate_arithmetic("+".join(["1"] * 10), time_limit=-1)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("768 + 512*sqrt(2)", 768 + 512 * 2**0.5),
        ("2**10", 1024),
        ("-3 + +4", 1),
        ("(1 + 2) * 3 / 4", 2.25),
        ("2*pi", 6.283185307179586),
        ("e**2", 7.38905609893065),
        ("log(e)", 1.0),
        ("cbrt(-8)", -2.0),
        ("10**100", 1e100),
    ],
)
def test_arithmetic_values(text: str, value: float) -> None:
    assert evaluate_arithmetic(text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("768 + 512\\sqrt{2}", 1492.077),
        ("768 + 512\\sqrt2", 1492.077),
        ("\\frac{3}{4}", 0.75),
        ("\\dfrac{1}{2} \\times 6", 3),
        ("2^{10}", 1024),
        ("4\\pi", 12.566),
        ("1,492.08", 1492.08),
        ("x = 13", 13),
        ("answer: 42 cm", 42),
        ("≈ 1492.08", 1492.08),
    ],
)
def test_latex_answers_still_evaluate(expression: str, value: float) -> None:
    assert evaluate(expression) == pytest.approx(value, abs=0.01)


@pytest.mark.parametrize("answer", ["\\boxed{9**9**9**9}", "\\boxed{9^{9^{9^{9}}}}", "\\boxed{10^{1000}}"])
def test_a_hostile_boxed_answer_grades_as_no_number_quickly(answer: str) -> None:
    started = time.perf_counter()
    result = grade("number", f"The result is {answer}.", {"value": 0})
    assert not result.passed
    assert time.perf_counter() - started < 1.0


def test_a_sum_of_many_terms_still_evaluates() -> None:
    assert evaluate_arithmetic("+".join(["1"] * 30)) == 30


def test_every_registered_grader_takes_the_same_arguments() -> None:
    expected = {
        "acrostic": {"heads": "春夏"},
        "number": {"value": 1},
        "named_numbers": {"鸡": 23},
        "quotes_sources": {},
        "snake": {},
        "contains": {"all_of": ["x"]},
    }
    assert set(expected) == set(GRADERS)
    for name in GRADERS:
        result = grade(name, "nothing useful", expected[name], [])
        assert not result.passed, name
