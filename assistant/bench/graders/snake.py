"""The snake game: one HTML document, checked statically, then played in headless Chromium when
one is installed (`assistant.bench.browser`): a probe script presses ArrowUp and records whether
the snake's drawing and the score changed."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .. import browser
from .base import Grade

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


PROBE = """
<script>
window.addEventListener('load', () => {
  const snapshot = () => {
    const c = document.querySelector('canvas');
    const pixels = c ? c.toDataURL() : document.body.innerHTML;
    return [pixels, document.body.innerText];
  };
  const before = snapshot();
  const up = () => new KeyboardEvent('keydown',
    {key: 'ArrowUp', code: 'ArrowUp', keyCode: 38, which: 38, bubbles: true});
  document.dispatchEvent(up());
  window.dispatchEvent(up());
  const samples = [];
  let n = 0;
  const timer = setInterval(() => {
    samples.push(snapshot());
    if (++n < 8) return;
    clearInterval(timer);
    const out = document.createElement('pre');
    out.id = '__bench__';
    out.textContent = JSON.stringify({
      moved: samples.some(s => s[0] !== before[0]),
      text_changed: samples.some(s => s[1] !== before[1]),
    });
    document.body.appendChild(out);
  }, 200);
});
</script>
"""


def grade_snake(answer: str) -> Grade:
    """The static checks, then the game played in headless Chromium when there is one."""
    static = grade_snake_static(answer)
    docs = extract_html(answer)
    if len(docs) != 1:
        return static
    html = docs[0].replace("</body>", PROBE + "</body>") if "</body>" in docs[0] else docs[0] + PROBE
    dom = browser.rendered_dom(html)
    if dom is None:
        return static
    found = re.search(r'<pre id="__bench__">(.*?)</pre>', dom, re.S)
    if not found:
        return Grade(False, static.score * 0.5, static.detail + "; the page did not run in Chromium")
    result = json.loads(found.group(1).replace("&quot;", '"'))
    moved = result.get("moved") and result.get("text_changed")
    detail = (
        f"in Chromium: drawing changed={result.get('moved')}, score/text changed={result.get('text_changed')}"
    )
    return Grade(bool(moved) and static.passed, 1.0 if moved else 0.3, detail)


def grade(answer: str, expected: Mapping[str, Any], sources: Sequence[dict[str, Any]]) -> Grade:
    return grade_snake(answer)
