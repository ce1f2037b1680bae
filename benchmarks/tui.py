"""The chat app's two quality bars, measured headless:

1. start-up: from a fresh Python process to an interactive prompt (imports, app mount, prompt
   focused). Heavy parts (embedder, Chroma) load in a background worker afterwards, so they are
   not on this path; the time until they are ready is reported too.
2. first question: on the 100,000-chunk base of benchmarks/latency.py, in a new process, the time
   from the prompt appearing to the first question's sources on screen (the status bar's
   "N sources"), the question sent the moment the prompt appears and after a few seconds of
   typing, against the same time for the later questions of that process (the target, issue 19:
   the first no slower than a later one). The base loads in the background as the app opens.
3. streaming: a fake Ollama streams a long Markdown answer (tables, code, lists; Chinese and
   English) one token per chunk as fast as it can (well above 500 tokens/s); we measure the
   stream's rate and how long after the last token reached the client the whole answer is on
   screen.

    python -m benchmarks.tui [--runs 5] [--typing 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.servers import ScriptedOllama, tokens

REPO = Path(__file__).resolve().parents[1]

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

FIRST_QUESTION = r"""
import asyncio, json, sys, time
t0 = time.perf_counter()
from assistant.settings import load_settings
from tui.app import AssistantApp
from tui.widgets.prompt import PromptInput
home, ollama, model, typing = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
questions = json.loads(sys.argv[5])
settings = load_settings(environ={
    "ASSISTANT_HOME": home, "OLLAMA_HOST": ollama, "ASSISTANT_MODEL": model, "ASSISTANT_KB": "bench"
})
async def main():
    app = AssistantApp(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        while not isinstance(app.focused, PromptInput):
            await pilot.pause(0.005)
        prompt_at = time.perf_counter()
        await asyncio.sleep(typing)
        seconds = []
        for question in questions:
            asked = time.perf_counter()
            await app.chat.submitted(PromptInput.Submitted(app.focused, question))
            while " sources · " not in app.chat.status.state:
                await pilot.pause(0.005)
            seconds.append(time.perf_counter() - asked)
            while not app.chat.answering.is_finished:
                await pilot.pause(0.01)
        print(json.dumps({"prompt_s": prompt_at - t0, "first_from_prompt_s": typing + seconds[0],
                          "question_to_sources_s": seconds}))
asyncio.run(main())
"""

#: The first question is Chinese; the later ones English (the English index's first use) and Chinese.
QUESTIONS = [
    "个人信息处理者的义务有哪些？",
    "When was IBM founded?",
    "国家机关处理个人信息应当遵守什么规定？",
]

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


def first_question(runs: int, typing: float) -> dict:
    """Prompt -> the first question's sources, against the later questions' (see the docstring)."""
    from benchmarks.latency import build

    home = build(100_000)
    found: dict[str, list] = {}
    with ScriptedOllama("deepseek-r1:7b", reasoning="想。", answer="好。") as server:
        for _ in range(runs):
            for delay in (0.0, typing):
                command = [sys.executable, "-c", FIRST_QUESTION, str(home), server.url, "deepseek-r1:7b"]
                done = subprocess.run(
                    [*command, str(delay), json.dumps(QUESTIONS)],
                    capture_output=True,
                    text=True,
                    cwd=REPO,
                    check=True,
                )
                found.setdefault(f"after_{delay:g}_s", []).append(json.loads(done.stdout.splitlines()[-1]))
    result = {}
    for name, rows in found.items():
        result[f"question_{name}"] = {
            "first_question_to_sources_s_median": round(
                statistics.median(r["question_to_sources_s"][0] for r in rows), 3
            ),
            "prompt_to_first_sources_s_median": round(
                statistics.median(r["first_from_prompt_s"] for r in rows), 3
            ),
            "later_questions_to_sources_s_median": round(
                statistics.median(s for r in rows for s in r["question_to_sources_s"][1:]), 3
            ),
        }
    return {"base": f"{home.relative_to(REPO)} (100,000 chunks)", "runs": runs, **result}


async def streaming() -> dict:
    from assistant.chat.backends.ollama import OllamaBackend
    from assistant.session import Session
    from assistant.settings import load_settings
    from tui.app import AssistantApp
    from tui.widgets.message import ChatMessage
    from tui.widgets.prompt import PromptInput

    # Note when the last token reaches the client, to measure how long until it is on screen.
    arrivals: list[float] = []
    original_chat = OllamaBackend.chat

    def timed_chat(self, request):
        for piece in original_chat(self, request):
            arrivals.append(time.perf_counter())
            yield piece

    OllamaBackend.chat = timed_chat
    total_tokens = len(tokens(ANSWER)) + len(tokens("让我想想。" * 20))
    # One token per chunk, as fast as the server can send: well above 500 tokens/s.
    server = ScriptedOllama("deepseek-r1:7b", reasoning="让我想想。" * 20, answer=ANSWER)
    with server, tempfile.TemporaryDirectory() as home:
        settings = load_settings(
            environ={"ASSISTANT_HOME": home, "OLLAMA_HOST": server.url, "ASSISTANT_MODEL": "deepseek-r1:7b"}
        )
        app = AssistantApp(settings, Session(settings))
        async with app.run_test(size=(120, 40)):
            prompt = app.screen.query_one(PromptInput)
            started = time.perf_counter()
            await app.chat.submitted(PromptInput.Submitted(prompt, "鸡兔同笼"))
            message = app.screen.query_one(ChatMessage)
            target = ANSWER.strip()
            while message.answer.source.strip() != target:
                await asyncio.sleep(0.001)
            on_screen = time.perf_counter()
            while not app.chat.answering.is_finished:
                await asyncio.sleep(0.001)
            done = time.perf_counter()
    OllamaBackend.chat = original_chat
    first, last = arrivals[0], arrivals[-1]
    return {
        "tokens": total_tokens,
        "stream_tokens_per_s": round(total_tokens / (last - first), 1),
        "stream_seconds": round(last - first, 3),
        "last_token_to_screen_s": round(on_screen - last, 3),
        "question_to_all_text_on_screen_s": round(on_screen - started, 3),
        "question_to_finished_s": round(done - started, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--typing", type=float, default=2.0, help="seconds of typing before the first question"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "tui.json")
    args = parser.parse_args()
    load = os.getloadavg()
    result = {
        "startup": startup(args.runs),
        "first_question": first_question(args.runs, args.typing),
        "streaming": asyncio.run(streaming()),
        "load_average_before": [round(x, 2) for x in load],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
