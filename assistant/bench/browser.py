"""Pages run in a headless Chromium, when one is installed (Debian's `chromium`): the bench's
graders use it to try what a model wrote (graders/snake.py). Without one, `rendered_dom` says so
by returning None and a grader keeps to its static checks."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def rendered_dom(html: str, *, budget_ms: int = 3000, timeout: float = 60) -> str | None:
    """The DOM of page `html` after `budget_ms` of virtual time in headless Chromium (no
    network, a throw-away profile); None without Chromium, or when it fails or takes longer
    than `timeout` seconds."""
    browser = chromium()
    if browser is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(html, encoding="utf-8")
        try:
            return subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--no-first-run",
                    f"--user-data-dir={tmp}/profile",
                    f"--virtual-time-budget={budget_ms}",
                    "--dump-dom",
                    page.as_uri(),
                ],
                capture_output=True,
                text=True,
                timeout=timeout,
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return None
