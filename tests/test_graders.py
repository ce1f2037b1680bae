"""The bench graders on real good and bad answers, including the review's failure modes."""

from __future__ import annotations

import pytest

from assistant.bench.browser import chromium
from assistant.bench.graders import (
    evaluate,
    grade_acrostic,
    grade_contains,
    grade_named_numbers,
    grade_number,
    grade_quotes_sources,
    grade_snake,
    grade_snake_static,
    stability,
)

HEADS = "新年快乐万事如意"

GOOD_ACROSTIC = """好的，这是一首以“新年快乐万事如意”开头的藏头诗：

**新**春瑞气满乾坤，
**年**岁丰登喜气存。
**快**马扬鞭奔锦绣，
**乐**声阵阵入家门。
**万**家灯火辉煌夜，
**事**事顺心福满园。
**如**意吉祥同庆贺，
**意**气风发报春恩。
"""

SEVEN_B_DRIFT = """新年快乐万事如意! Here is a poem for the new year:
New year brings joy and happiness to all,
May everything go well as blessings fall.
Happy days ahead with family and friends,
Wishing you luck that never ends."""

IRREGULAR = "新年到来\n年年有余庆丰收\n快乐\n乐在其中享太平\n万象更新\n事业有成步步高\n如意\n意气风发"


def test_acrostic_good_poem_passes() -> None:
    grade = grade_acrostic(GOOD_ACROSTIC, HEADS)
    assert grade.passed and "8 lines of 7 characters" in grade.detail


def test_acrostic_seven_b_failure_drifts_into_english() -> None:
    grade = grade_acrostic(SEVEN_B_DRIFT, HEADS)
    assert not grade.passed and grade.score == 0


def test_acrostic_irregular_lines_are_not_regular_verse() -> None:
    grade = grade_acrostic(IRREGULAR, HEADS)
    assert not grade.passed and "vary" in grade.detail


def test_chickens_and_rabbits() -> None:
    good = "设鸡x只兔y只……解得 x=12, y=13。\n\n所以笼子里有鸡12只，兔13只。\n\\boxed{鸡12只，兔13只}"
    assert grade_named_numbers(good, {"鸡": 12, "兔": 13}).passed
    swapped = "答：鸡13只，兔12只。"
    assert not grade_named_numbers(swapped, {"鸡": 12, "兔": 13}).passed
    english = "So there are 12 chickens and 13 rabbits. 鸡 12 只，兔 13 只"
    assert grade_named_numbers(english, {"鸡": 12, "兔": 13}).passed


@pytest.mark.parametrize(
    ("answer", "passed"),
    [
        ("表面积为 \\boxed{768 + 512\\sqrt{2}}", True),
        ("所以表面积约为 \\boxed{1492.08}", True),
        ("S = 2·128 + 16·16√2·... ≈ 1492.1", True),
        ("表面积为 \\boxed{1280}", False),
        ("我不知道。", False),
    ],
)
def test_prism_surface_area(answer: str, passed: bool) -> None:
    assert grade_number(answer, 768 + 512 * 2**0.5, tolerance=0.001).passed is passed


def test_expression_evaluation() -> None:
    assert evaluate("768 + 512\\sqrt{2}") == pytest.approx(1492.077, abs=0.01)
    assert evaluate("2 \\times 6") == 12
    assert evaluate("x = 13") == 13


SOURCES = [
    {
        "kind": "web",
        "label": "W1",
        "text": "风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。",
    },
    {"kind": "kb", "label": "K1", "text": "杜甫晚年作品"},
]


def test_networked_summary_quotes_and_cites_web_sources() -> None:
    good = "《登高》开篇写“风急天高猿啸哀，渚清沙白鸟飞回”[W1]，气象雄浑。"
    assert grade_quotes_sources(good, SOURCES).passed
    misread = "《登高》写的是春天的花开 [W1]，心情愉快。"  # the 7B misreading the poem
    assert not grade_quotes_sources(misread, SOURCES).passed
    uncited = "诗中写“无边落木萧萧下，不尽长江滚滚来”。"
    grade = grade_quotes_sources(uncited, SOURCES)
    assert not grade.passed and grade.score == pytest.approx(0.6)


def test_stability_across_repeats() -> None:
    assert stability(["同一个回答。"] * 3) == 1.0
    assert stability(["《登高》写秋景。", "《登高》写的是秋天的景色。", "这首诗讲爱情。"]) < 0.8


WORKING_SNAKE = """```html
<!DOCTYPE html><html><body><canvas id="c" width="400" height="400"></canvas><div id="score">0</div>
<script>
const ctx = document.getElementById('c').getContext('2d'); let score = 0; let dir = {x:1,y:0};
let snake = [{x:20,y:20}];
document.addEventListener('keydown', e => { if (e.key === 'ArrowUp') dir = {x:0,y:-1}; });
setInterval(() => { const head = {x: snake[0].x + dir.x, y: snake[0].y + dir.y}; snake.unshift(head);
  snake.pop(); score++; document.getElementById('score').textContent = score;
  ctx.clearRect(0, 0, 400, 400); snake.forEach(p => ctx.fillRect(p.x * 10, p.y * 10, 10, 10)); }, 100);
</script></body></html>
```"""

FROZEN_SNAKE = """```html
<!DOCTYPE html><html><body><canvas id="c"></canvas><div>Score: 0</div>
<script>
const ctx = document.getElementById('c').getContext('2d');
ctx.fillRect(10, 10, 10, 10);  // draws the snake once; nothing moves it
</script></body></html>
```"""


def test_snake_static_checks() -> None:
    good = grade_snake_static(WORKING_SNAKE)
    assert good.passed and good.unverified
    frozen = grade_snake_static(FROZEN_SNAKE)  # the 7B page that rendered but never moved
    assert not frozen.passed and "moves on a timer" in frozen.detail and "arrow keys" in frozen.detail
    assert not grade_snake_static("Here is the code: function snake() {}").passed


def test_contains() -> None:
    assert grade_contains("The capital of France is Paris.", ["Paris"]).passed
    assert not grade_contains("It is Lyon.", ["Paris"]).passed


@pytest.mark.skipif(
    chromium() is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)
def test_snake_runs_in_headless_chromium() -> None:
    moving = grade_snake(WORKING_SNAKE)
    assert moving.passed and "drawing changed=True" in moving.detail and not moving.unverified
    frozen = grade_snake(FROZEN_SNAKE)
    assert not frozen.passed and "drawing changed=False" in frozen.detail


def test_snake_without_chromium_says_what_was_not_verified(monkeypatch) -> None:
    import assistant.bench.browser as browser

    monkeypatch.setattr(browser, "chromium", lambda: None)
    grade = grade_snake(WORKING_SNAKE)
    assert grade.passed and grade.unverified


def test_snake_is_played_with_a_probe_and_graded_on_what_it_saw(monkeypatch) -> None:
    """The grader's side of a Chromium run (the browser itself is a test above): the page goes in
    with the probe script, and the probe's verdict decides the grade."""
    import assistant.bench.browser as browser

    pages: list[str] = []

    def verdict(moved: bool) -> str:
        found = f'{{"moved": {str(moved).lower()}, "text_changed": {str(moved).lower()}}}'
        return f'<html><body><pre id="__bench__">{found.replace(chr(34), "&quot;")}</pre></body></html>'

    monkeypatch.setattr(browser, "rendered_dom", lambda html, **_: pages.append(html) or verdict(True))
    moving = grade_snake(WORKING_SNAKE)
    assert moving.passed and moving.score == 1.0 and "drawing changed=True" in moving.detail
    assert "__bench__" in pages[0] and "ArrowUp" in pages[0]
    monkeypatch.setattr(browser, "rendered_dom", lambda html, **_: verdict(False))
    frozen = grade_snake(WORKING_SNAKE)
    assert not frozen.passed and "drawing changed=False" in frozen.detail
    monkeypatch.setattr(browser, "rendered_dom", lambda html, **_: "<html><body></body></html>")
    assert "did not run in Chromium" in grade_snake(WORKING_SNAKE).detail
