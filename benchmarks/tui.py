"""The chat app's two quality bars, measured headless:

1. start-up: from a fresh Python process to an interactive prompt (imports, app mount, prompt
   focused). Heavy parts (embedder, Chroma) load in a background worker afterwards, so they are
   not on this path; the time until they are ready is reported too.
2. streaming: a fake Ollama streams a long Markdown answer at 500 tokens/s; we measure how long
   after the last token left the server it is on screen (the answer widget holds the full text
   and the app is idle), and the total rendering lag over the stream.

    python benchmarks/tui.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

STARTUP = r"""
import time, sys, asyncio
t0 = time.perf_counter()
from assistant.settings import load_settings
from tui.app import AssistantApp
from tui.widgets.prompt import PromptInput
settings = load_settings(environ={"ASSISTANT_HOME": sys.argv[1], "OLLAMA_HOST": "http://127.0.0.1:9"})
async def main():
    app = AssistantApp(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        while not isinstance(app.focused, PromptInput):
            await pilot.pause(0.005)
        ready = time.perf_counter() - t0
        while any(not w.is_finished for w in app.workers if w.group == "warm-up"):
            await pilot.pause(0.01)
        warm = time.perf_counter() - t0
    print(ready, warm)
asyncio.run(main())
"""

ANSWER = (
    "## 分析\n\n设鸡有 *x* 只，兔有 *y* 只。\n\n"
    "| 量 | 鸡 | 兔 |\n|---|---|---|\n| 头 | 1 | 1 |\n| 脚 | 2 | 4 |\n\n"
    "```python\nx + y == 25\n2 * x + 4 * y == 76\n```\n\n- 第一步：消去 x\n- 第二步：求 y = 13\n\n"
    "**所以鸡 12 只，兔 13 只。** The same in English: twelve chickens and thirteen rabbits.\n\n"
) * 12


def startup(runs: int) -> dict:
    ready, warm = [], []
    with tempfile.TemporaryDirectory() as home:
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", STARTUP, home], capture_output=True, text=True, cwd=REPO, check=True
            ).stdout.split()
            ready.append(float(out[0]))
            warm.append(float(out[1]))
    return {
        "prompt_ready_s_median": statistics.median(ready),
        "prompt_ready_s_max": max(ready),
        "background_ready_s_median": statistics.median(warm),
    }


async def streaming() -> dict:
    from fake_ollama import FakeOllamaServer, Reply

    from assistant.session import Session
    from assistant.settings import load_settings
    from tui.app import AssistantApp
    from tui.widgets.message import ChatMessage
    from tui.widgets.prompt import PromptInput

    with FakeOllamaServer() as server, tempfile.TemporaryDirectory() as home:
        server.add_model("deepseek-r1:7b")
        server.script(
            "deepseek-r1:7b", Reply(reasoning="让我想想。" * 20, answer=ANSWER, tokens_per_second=500)
        )
        settings = load_settings(
            environ={"ASSISTANT_HOME": home, "OLLAMA_HOST": server.url, "ASSISTANT_MODEL": "deepseek-r1:7b"}
        )
        app = AssistantApp(settings, Session(settings))
        async with app.run_test(size=(120, 40)) as pilot:
            prompt = app.screen.query_one(PromptInput)
            prompt.text = "鸡兔同笼"
            await pilot.press("enter")
            started = time.perf_counter()
            message = app.screen.query_one(ChatMessage)
            target = ANSWER.strip()
            # The server paces tokens at 500/s, so the last one leaves it at about this time:
            while message.answer.source.strip() != target:
                await asyncio.sleep(0.002)
            on_screen = time.perf_counter()
            while not app.chat.answering.is_finished:
                await asyncio.sleep(0.002)
            done = time.perf_counter()
    from fake_ollama import tokens as count_tokens

    total_tokens = len(count_tokens(ANSWER)) + len(count_tokens("让我想想。" * 20))
    stream_seconds = total_tokens / 500
    return {
        "tokens": total_tokens,
        "stream_seconds_at_500_tps": round(stream_seconds, 3),
        "all_text_on_screen_s": round(on_screen - started, 3),
        "lag_after_last_token_s": round(on_screen - started - stream_seconds, 3),
        "finished_s": round(done - started, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "tui.json")
    args = parser.parse_args()
    result = {"startup": startup(args.runs), "streaming": asyncio.run(streaming())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
