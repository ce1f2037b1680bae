"""The snake game, checked for real when a headless Chromium is available.

The page runs in headless Chromium (`--dump-dom` with a virtual time budget) with a small script
injected that presses ArrowUp and records whether the snake's drawing and the score changed.
Without Chromium, only static checks run and the grade says what could not be verified.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .graders.base import Grade
from .graders.snake import extract_html, grade_snake_static

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


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def grade_snake(answer: str) -> Grade:
    static = grade_snake_static(answer)
    browser = chromium()
    docs = extract_html(answer)
    if browser is None or len(docs) != 1:
        return static
    html = docs[0].replace("</body>", PROBE + "</body>") if "</body>" in docs[0] else docs[0] + PROBE
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "snake.html"
        page.write_text(html, encoding="utf-8")
        try:
            dom = subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--no-first-run",
                    f"--user-data-dir={tmp}/profile",
                    "--virtual-time-budget=3000",
                    "--dump-dom",
                    page.as_uri(),
                ],
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return static
    import json
    import re

    found = re.search(r'<pre id="__bench__">(.*?)</pre>', dom, re.S)
    if not found:
        return Grade(False, static.score * 0.5, static.detail + "; the page did not run in Chromium")
    result = json.loads(found.group(1).replace("&quot;", '"'))
    moved = result.get("moved") and result.get("text_changed")
    detail = (
        f"in Chromium: drawing changed={result.get('moved')}, score/text changed={result.get('text_changed')}"
    )
    return Grade(bool(moved) and static.passed, 1.0 if moved else 0.3, detail)
