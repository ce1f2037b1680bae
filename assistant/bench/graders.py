"""Graders for the bench suite: each takes the model's answer (and what it needs) and returns a
Grade. Small, pure functions, tested on real good and bad answers (tests/test_graders.py)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from vectorstore.text import CJK_RE


@dataclass
class Grade:
    passed: bool
    score: float  # 0..1
    detail: str
    #: What could not be checked (e.g. no browser for the snake game).
    unverified: list[str] = field(default_factory=list)


_PUNCT = re.compile(r"[\s，。！？；：、,.!?;:“”\"'《》()（）\[\]【】*#>`~_-]+")


# --- acrostic ---------------------------------------------------------------------------------
def poem_lines(answer: str) -> list[str]:
    """Lines of Chinese verse in the answer (numbering, markup and punctuation stripped)."""
    lines = []
    for raw in re.split(r"[\n]|(?<=[。！？])", answer):
        line = re.sub(r"^\s*(?:\d+[.、)]|[-*>#]+)\s*", "", raw)
        line = re.sub(r"\*\*|__", "", line)
        cjk = "".join(CJK_RE.findall(line))
        if len(cjk) >= 2 and len(cjk) >= 0.8 * len(_PUNCT.sub("", line) or "x"):
            lines.append(_PUNCT.sub("", line))
    return lines


def grade_acrostic(answer: str, heads: str) -> Grade:
    """Consecutive lines start with `heads` in order and have the same length (5 or 7 characters)."""
    lines = poem_lines(answer)
    for start in range(len(lines)):
        window = lines[start : start + len(heads)]
        if len(window) == len(heads) and all(
            line.startswith(h) for line, h in zip(window, heads, strict=True)
        ):
            lengths = {len(line) for line in window}
            regular = len(lengths) == 1 and lengths <= {5, 7}
            english = sum(c.isascii() and c.isalpha() for c in answer) / max(1, len(answer))
            if english > 0.3:
                return Grade(False, 0.5, "acrostic present but the answer drifted into English")
            if regular:
                return Grade(True, 1.0, f"{len(heads)} lines of {lengths.pop()} characters, heads {heads}")
            return Grade(False, 0.6, f"heads correct but line lengths vary: {sorted(lengths)}")
    got = "".join(line[0] for line in lines[: len(heads)])
    return Grade(False, 0.0, f"lines do not begin with {heads} (first characters: {got or 'none'})")


# --- numbers ------------------------------------------------------------------------------------
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def final_expression(answer: str) -> str:
    """The \\boxed{} content if any, else the last line with a number."""
    boxed = _BOXED.findall(answer)
    if boxed:
        return boxed[-1]
    lines = [line for line in answer.splitlines() if _NUMBER.search(line)]
    return lines[-1] if lines else ""


def evaluate(expression: str) -> float | None:
    """A number from a LaTeX-ish expression such as 768 + 512\\sqrt{2} or 1492.08."""
    text = (
        expression.replace("\\left", "").replace("\\right", "").replace("\\cdot", "*").replace("\\times", "*")
    )
    text = re.sub(r"\\sqrt\{([^{}]+)\}", r"sqrt(\1)", text)
    text = re.sub(r"\\sqrt(\d+)", r"sqrt(\1)", text)
    text = text.replace("√", "sqrt").replace("\\approx", "=").replace("≈", "=")
    text = re.sub(r"\\[a-zA-Z]+", "", text).replace("{", "(").replace("}", ")")
    for part in reversed(text.split("=")):
        candidate = re.sub(r"(\d)\s*(sqrt|\()", r"\1*\2", part.strip())
        candidate = re.sub(r"sqrt(\d+(?:\.\d+)?)", r"sqrt(\1)", candidate)
        if not re.fullmatch(r"[\d\s.+\-*/()sqrt]+", candidate or "x"):
            numbers = _NUMBER.findall(part)
            if numbers:
                return float(numbers[-1])
            continue
        try:
            return float(eval(candidate, {"__builtins__": {}}, {"sqrt": math.sqrt}))  # noqa: S307 - checked charset
        except (SyntaxError, ZeroDivisionError, TypeError, ValueError):
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


# --- networked summary --------------------------------------------------------------------------
def grade_quotes_sources(answer: str, sources: Sequence[dict[str, Any]], min_chars: int = 7) -> Grade:
    """The answer quotes text (a run of `min_chars` characters: a line of seven-character verse)
    that appears in the fetched web sources, and cites them."""
    web = [s for s in sources if s.get("kind") == "web"]
    if not web:
        return Grade(False, 0.0, "no web sources were fetched")
    source_text = _PUNCT.sub("", "".join(s.get("text", "") for s in web))
    found = []
    for segment in re.split(r"[，。！？；：、\n,.!?;:]", answer):
        text = _PUNCT.sub("", segment)
        windows = (text[i : i + min_chars] for i in range(len(text) - min_chars + 1))
        hit = next((w for w in windows if w in source_text), None)
        if hit:
            found.append(hit)
    cited = re.findall(r"\[W\d+\]", answer)
    score = (0.6 if found else 0.0) + (0.4 if cited else 0.0)
    detail = f"{len(found)} quoted line(s) found in the web sources; {len(cited)} web citation(s)"
    return Grade(bool(found) and bool(cited), score, detail)


def stability(answers: Sequence[str]) -> float:
    """Mean pairwise similarity of repeated answers (1.0: identical), 1.0 for a single answer."""
    if len(answers) < 2:
        return 1.0
    pairs = [(a, b) for i, a in enumerate(answers) for b in answers[i + 1 :]]
    return sum(SequenceMatcher(None, a, b).ratio() for a, b in pairs) / len(pairs)


# --- snake game ---------------------------------------------------------------------------------
_HTML_BLOCK = re.compile(r"```(?:html)?\s*\n(.*?<html.*?</html>.*?)```", re.S | re.I)
_HTML_DOC = re.compile(r"(<!doctype html.*?</html>|<html.*?</html>)", re.S | re.I)


def extract_html(answer: str) -> list[str]:
    blocks = _HTML_BLOCK.findall(answer)
    return blocks or _HTML_DOC.findall(answer)


def grade_snake_static(answer: str) -> Grade:
    """One runnable HTML document that draws, listens to arrow keys, moves on a timer, keeps score."""
    docs = extract_html(answer)
    if len(docs) != 1:
        return Grade(False, 0.0, f"expected one HTML document, found {len(docs)}")
    html = docs[0]
    checks = {
        "draws (canvas or grid)": re.search(r"<canvas|getContext|grid|\.cell", html, re.I),
        "listens to arrow keys": re.search(r"keydown|keyup|onkeydown", html)
        and re.search(r"Arrow|keyCode|\b3[7-9]\b|\b40\b", html),
        "moves on a timer": re.search(r"setInterval|setTimeout|requestAnimationFrame", html),
        "keeps a score": re.search(r"score|分数|得分", html, re.I),
    }
    missing = [name for name, hit in checks.items() if not hit]
    score = 1 - len(missing) / len(checks)
    return Grade(
        not missing,
        score,
        "static checks passed" if not missing else "missing: " + ", ".join(missing),
        unverified=["the snake moving and the score changing (needs a headless browser)"],
    )


# --- expected text --------------------------------------------------------------------------------
def grade_contains(answer: str, expected: Sequence[str], any_of: bool = False) -> Grade:
    norm = _PUNCT.sub("", answer).lower()
    hits = [e for e in expected if _PUNCT.sub("", e).lower() in norm]
    ok = bool(hits) if any_of else len(hits) == len(expected)
    return Grade(ok, len(hits) / max(1, len(expected)), f"found {hits} of {list(expected)}")


GRADERS: dict[str, Callable[..., Grade]] = {
    "acrostic": grade_acrostic,
    "number": grade_number,
    "named_numbers": grade_named_numbers,
    "quotes_sources": grade_quotes_sources,
    "snake": grade_snake_static,
    "contains": grade_contains,
}
