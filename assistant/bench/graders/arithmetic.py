"""A bounded evaluator for the arithmetic in a model's final answer (never `eval`).

Model output is hostile input: `9**9**9**9` would hang `eval` for ever, and names, attributes,
lambdas or dunder tricks could run code. Here the expression is parsed with `ast` and walked:
only numbers, + - * / ** (unary too), parentheses, a few functions (sqrt, exp, log, sin, ...)
and constants (pi, e) are accepted, in floating point, with bounds on input length, nesting
depth, node count, exponent size and the magnitude of every intermediate value, under a
deadline. Anything else raises `ExpressionError`.
"""

from __future__ import annotations

import ast
import math
import operator
import time
from collections.abc import Callable

#: Longest expression accepted (characters); final answers are short.
MAX_LENGTH = 200
#: Deepest nesting of operations accepted.
MAX_DEPTH = 40
#: Most syntax-tree nodes accepted.
MAX_NODES = 120
#: Largest exponent magnitude in a power.
MAX_EXPONENT = 1000.0
#: Largest magnitude of any value, intermediate or final (well inside float range).
MAX_MAGNITUDE = 1e100
#: Seconds one evaluation may take.
TIME_LIMIT = 0.05


class ExpressionError(ValueError):
    """The text is not an expression this evaluator accepts, or it exceeds a bound."""


class OutOfBounds(ExpressionError):
    """The expression is well formed but too long, deep, large or slow to evaluate."""


FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sqrt": math.sqrt,
    "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x),
    "exp": math.exp,
    "log": math.log,
    "ln": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "abs": abs,
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "π": math.pi}

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def evaluate_arithmetic(text: str, *, time_limit: float = TIME_LIMIT) -> float:
    """The value of `text`, e.g. "768 + 512*sqrt(2)"; raises ExpressionError (OutOfBounds for
    expressions that are well formed but exceed a bound)."""
    if len(text) > MAX_LENGTH:
        raise OutOfBounds(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"not an arithmetic expression: {text[:40]!r}") from exc
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise OutOfBounds(f"expression has {nodes} parts (limit {MAX_NODES})")
    return _Walker(time.monotonic() + time_limit).value(tree.body, 0)


class _Walker:
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def value(self, node: ast.AST, depth: int) -> float:
        if depth > MAX_DEPTH:
            raise OutOfBounds(f"expression nested deeper than {MAX_DEPTH}")
        if time.monotonic() > self.deadline:
            raise OutOfBounds("expression took too long to evaluate")
        result = self._value(node, depth + 1)
        if not math.isfinite(result) or abs(result) > MAX_MAGNITUDE:
            raise OutOfBounds(f"a value exceeds {MAX_MAGNITUDE:g}")
        return result

    def _value(self, node: ast.AST, depth: int) -> float:
        match node:
            # bool is an int subclass: True + 1 is not arithmetic from a model.
            case ast.Constant(value=bool()):
                raise ExpressionError("booleans are not numbers here")
            case ast.Constant(value=int() | float() as number):
                return float(number)
            case ast.Name(id=name) if name in CONSTANTS:
                return CONSTANTS[name]
            case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
                return _UNARY[type(op)](self.value(operand, depth))
            case ast.BinOp(left=left, op=ast.Pow(), right=right):
                return self._power(self.value(left, depth), self.value(right, depth))
            case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
                return self._apply(_BINARY[type(op)], self.value(left, depth), self.value(right, depth))
            case ast.Call(func=ast.Name(id=name), args=[arg], keywords=[]) if name in FUNCTIONS:
                return self._apply(FUNCTIONS[name], self.value(arg, depth))
        raise ExpressionError(f"not allowed in an answer: {type(node).__name__}")

    @staticmethod
    def _apply(function: Callable[..., float], *args: float) -> float:
        try:
            return float(function(*args))
        except OverflowError as exc:
            raise OutOfBounds(f"a value exceeds the float range: {exc}") from exc
        except (ZeroDivisionError, ValueError, TypeError) as exc:
            raise ExpressionError(f"cannot compute: {exc}") from exc

    def _power(self, base: float, exponent: float) -> float:
        if abs(exponent) > MAX_EXPONENT:
            raise OutOfBounds(f"exponent {exponent:g} is larger than {MAX_EXPONENT:g}")
        if base and exponent * math.log10(abs(base)) > math.log10(MAX_MAGNITUDE):
            raise OutOfBounds(f"{base:g}**{exponent:g} exceeds {MAX_MAGNITUDE:g}")
        # A negative base to a fractional power is complex: float() refuses it (TypeError).
        return self._apply(operator.pow, base, exponent)
