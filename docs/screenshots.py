"""Regenerate the README's pictures of the chat app (docs/tui-*.svg).

    python docs/screenshots.py

It runs the TUI tests that take screenshots (tests/test_tui.py, headless, against the fake
Ollama, the fake SearxNG and the page server: the same scripted data every time), asking them
to save into this folder instead of their temporary one. A fixed temporary root keeps the paths
shown on screen (the knowledge-base screen's ingest log) the same from run to run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
#: Read by the `screenshot` fixture in tests/test_tui.py.
SCREENSHOTS_ENV = "R1_ASSISTANT_SCREENSHOTS"
#: The tests that save the README's pictures, by the pictures they save.
TESTS = {
    "test_networked_summary_scenario_with_web_search": ["tui-web-answer.svg"],
    "test_new_chat_help_and_reasoning_toggle": ["tui-help.svg"],
    "test_model_picker_lists_catalogue_and_pulls": ["tui-models.svg"],
    "test_knowledge_base_screen_ingests_in_the_background": ["tui-knowledge.svg"],
    "test_wide_terminal_and_screenshot": ["tui-chat.svg", "tui-chat-light.svg"],
}


def main() -> int:
    base = Path(tempfile.gettempdir()) / "r1-assistant-screenshots"
    env = {
        **os.environ,
        SCREENSHOTS_ENV: str(DOCS),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--basetemp={base}",
        "tests/test_tui.py",
        "-k",
        " or ".join(TESTS),
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    missing = [name for names in TESTS.values() for name in names if not (DOCS / name).is_file()]
    if result.returncode or missing:
        print(f"screenshots failed (pytest exit {result.returncode}; missing: {missing})", file=sys.stderr)
        return 1
    print(f"wrote {sum(map(len, TESTS.values()))} screenshots to {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
