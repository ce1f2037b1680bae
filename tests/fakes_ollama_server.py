"""The fake Ollama server: its installed models and registry, what each model is scripted to
answer, and the routes of Ollama's native API (`server/routes.go`) over the shared loopback base."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import fakes_ollama_chat as chat
from fakes_loopback import Cut, LoopbackServer, Response
from fakes_ollama_chat import OllamaRequest, Reply, ReplyScript, Turn, error, line, prompt_tokens
from fakes_ollama_go import THINK_LEVELS, keep_alive_seconds, option_error, timestamp
from fakes_ollama_models import (
    MISSING_MODEL,
    R1_LIBRARY,
    FakeModel,
    canonical,
    details,
    hashed_vector,
    pull_progress,
    show_entry,
    tag_entry,
)


@dataclass
class _Loaded:
    num_ctx: int
    expires_at: float  # time.time(); math.inf for a negative keep_alive


_ROUTES: dict[str, tuple[str, ...]] = {
    "/": ("GET", "HEAD"),
    "/api/tags": ("GET", "HEAD"),
    "/api/ps": ("GET",),
    "/api/show": ("POST",),
    "/api/pull": ("POST",),
    "/api/chat": ("POST",),
    "/api/embed": ("POST",),
}


class _Refused(Exception):
    """A chat request Ollama answers with an error status before it starts."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class FakeOllamaServer(LoopbackServer):
    """Ollama's native API on 127.0.0.1 and a free port (see the package docstring)."""

    name = "fake-ollama"
    request_class = OllamaRequest

    def __init__(self) -> None:
        super().__init__()
        self.embed_calls = 0
        self.texts_embedded = 0
        #: The server's context window when a request has no `options.num_ctx` (Ollama's default
        #: below 24 GiB of VRAM, or OLLAMA_CONTEXT_LENGTH).
        self.default_num_ctx = 4096
        #: Seconds between the progress lines of a pull.
        self.pull_delay = 0.0
        #: Seconds each text of an `/api/embed` request takes (a slow embedder, for progress).
        self.embed_delay = 0.0
        #: Installed models and the registry's, by lowercase canonical name.
        self.models: dict[str, FakeModel] = {}
        self.registry: dict[str, FakeModel] = {k: replace(m) for k, m in R1_LIBRARY.items()}
        #: Loaded models (by lowercase canonical name), for load durations and `/api/ps`.
        self.loaded: dict[str, _Loaded] = {}
        #: How many times a model was (re)loaded.
        self.loads = 0
        self._scripts: dict[str, list[ReplyScript]] = {}

    # Scripting ----------------------------------------------------------------------------------

    def add_model(self, model: FakeModel | str, **fields: Any) -> FakeModel:
        """Install a model (as if pulled): a `FakeModel`, or a name with field overrides, e.g.
        `add_model("deepseek-r1:7b", thinking=False)` for an old pull of a library tag."""
        model = self._model(model, **fields)
        model.modified_at = model.modified_at or datetime.now().astimezone()
        with self.lock:
            self.models[model.name.lower()] = model
        return model

    def offer(self, model: FakeModel | str, **fields: Any) -> FakeModel:
        """Make a model pullable without installing it (the R1 library tags always are)."""
        model = self._model(model, **fields)
        with self.lock:
            self.registry[model.name.lower()] = model
        return model

    def remove_model(self, name: str) -> None:
        with self.lock:
            self.models.pop(canonical(name).lower(), None)
            self.loaded.pop(canonical(name).lower(), None)

    def script(self, model: str, *replies: ReplyScript) -> None:
        """What `model` answers to its next chats, in order; the last one answers every chat after.
        A reply is a `Reply`, a string (the answer, no reasoning) or a function of the
        `OllamaRequest` returning either. Replaces what was scripted before for that model."""
        with self.lock:
            self._scripts[canonical(model).lower()] = list(replies)

    @staticmethod
    def _model(model: FakeModel | str, **fields: Any) -> FakeModel:
        if isinstance(model, str):
            name = canonical(model)
            base = R1_LIBRARY.get(name.lower())
            model = replace(base, name=name) if base else FakeModel(name)
        return replace(model, name=canonical(model.name), **fields)

    # Recording ----------------------------------------------------------------------------------

    @property
    def chats(self) -> list[OllamaRequest]:
        return self.requests_to("/api/chat")

    @property
    def last_chat(self) -> OllamaRequest:
        chats = self.chats
        if not chats:
            raise AssertionError("the fake Ollama received no /api/chat request")
        return chats[-1]

    # Routing ------------------------------------------------------------------------------------

    def answer(self, request: OllamaRequest, response: Response) -> None:
        methods = _ROUTES.get(request.path)
        if methods is None:
            response.text(404, "404 page not found")
        elif request.method not in methods:
            response.text(405, "405 method not allowed")
        elif request.path == "/":
            response.text(200, "Ollama is running")
        elif request.path == "/api/tags":
            with self.lock:
                models = sorted(self.models.values(), key=lambda m: m.modified_at, reverse=True)
            response.json(200, {"models": [tag_entry(m) for m in models]})
        elif request.path == "/api/ps":
            response.json(200, {"models": self._ps()})
        elif not request.body.strip():
            error(response, 400, "missing request body")
        elif not isinstance(request.json, dict):
            # Go's encoding/json words it differently ("invalid character ..."); same status.
            error(response, 400, "invalid JSON in request body")
        else:
            handler = {
                "/api/show": self._show,
                "/api/pull": self._pull,
                "/api/chat": self._chat,
                "/api/embed": self._embed,
            }[request.path]
            handler(request, response)

    def _installed(self, name: str) -> FakeModel | None:
        with self.lock:
            return self.models.get(canonical(name).lower()) if name else None

    # Model management ---------------------------------------------------------------------------

    def _ps(self) -> list[dict]:
        now = time.time()
        with self.lock:
            running = [
                (self.models[key], state)
                for key, state in self.loaded.items()
                if key in self.models and state.expires_at > now
            ]
        return [
            {
                "name": m.name,
                "model": m.name,
                "size": m.total_size,
                "digest": m.digest,
                "details": details(m),
                "expires_at": timestamp(
                    datetime.fromtimestamp(min(state.expires_at, now + 1e9)).astimezone()
                ),
                "size_vram": m.total_size,
                "context_length": state.num_ctx,
            }
            for m, state in running
        ]

    def _show(self, request: OllamaRequest, response: Response) -> None:
        name = request.json.get("model") or request.json.get("name") or ""
        if not name:
            error(response, 400, "model is required")
        elif (model := self._installed(name)) is None:
            error(response, 404, f"model '{name}' not found")
        else:
            response.json(200, show_entry(model))

    def _pull(self, request: OllamaRequest, response: Response) -> None:
        name = request.json.get("model") or request.json.get("name") or ""
        if not name.strip():
            error(response, 400, "invalid model name")
            return
        name = canonical(name)
        with self.lock:
            offered = self.registry.get(name.lower())
        failure = None if offered else "pull model manifest: file does not exist"
        if not request.stream:
            # Ollama collects the progress and answers with the last line, or the error as a 500.
            if failure:
                error(response, 500, failure)
            else:
                self._install_pulled(offered, name)
                response.json(200, {"status": "success"})
            return
        for progress in pull_progress(offered) if offered else [{"status": "pulling manifest"}]:
            if self.pull_delay and self.stopping.wait(self.pull_delay):
                raise Cut
            line(response, progress)
        if failure:
            line(response, {"error": failure})
        else:
            self._install_pulled(offered, name)
            line(response, {"status": "success"})
        response.end()

    def _install_pulled(self, offered: FakeModel, name: str) -> None:
        self.add_model(replace(offered, name=name, modified_at=None))

    # Inference ----------------------------------------------------------------------------------

    def _embed(self, request: OllamaRequest, response: Response) -> None:
        model = request.json.get("model", "")
        if model == MISSING_MODEL:
            error(response, 404, f'model "{model}" not found, try pulling it first')
            return
        texts = request.json.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        with self.lock:
            self.embed_calls += 1
            self.texts_embedded += len(texts)
        if self.embed_delay:
            time.sleep(self.embed_delay * len(texts))
        response.json(200, {"model": model, "embeddings": [hashed_vector(t) for t in texts]})

    def _load(self, model: FakeModel, num_ctx: int, keep_alive: Any) -> int:
        """Nanoseconds spent loading: the model's load time unless it is loaded with this context
        window already (Ollama reloads a model whose `num_ctx` changes)."""
        key, now = model.name.lower(), time.time()
        seconds = keep_alive_seconds(keep_alive)
        with self.lock:
            current = self.loaded.get(key)
            warm = current is not None and current.num_ctx == num_ctx and current.expires_at > now
            if not warm:
                self.loads += 1
            self.loaded[key] = _Loaded(num_ctx, math.inf if seconds < 0 else now + seconds)
        return 18_000_000 if warm else int(model.load_seconds * 1e9)

    def _unload(self, model: FakeModel) -> None:
        with self.lock:
            self.loaded.pop(model.name.lower(), None)

    def _next_reply(self, model: FakeModel, request: OllamaRequest) -> Reply:
        with self.lock:
            queue = self._scripts.get(model.name.lower())
            script = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else None
        if script is None:
            return chat.default_reply(model, request)
        if callable(script):
            script = script(request)
        return Reply(answer=script) if isinstance(script, str) else script

    def _chat(self, request: OllamaRequest, response: Response) -> None:
        started, name = time.monotonic(), request.model or ""
        try:
            model, thinking = self._chat_model(request)
        except _Refused as refused:
            error(response, refused.status, str(refused))
            return
        keep_alive = request.json.get("keep_alive")
        if not request.messages and keep_alive_seconds(keep_alive) == 0:
            self._unload(model)
            response.json(200, chat.chunk(name, {"role": "assistant", "content": ""}, done_reason="unload"))
            return
        num_ctx = min(int(request.options.get("num_ctx") or self.default_num_ctx), model.context_length)
        load_ns = self._load(model, num_ctx, keep_alive)
        if not request.messages:  # Ollama just loads the model
            response.json(200, chat.chunk(name, {"role": "assistant", "content": ""}, done_reason="load"))
            return
        try:
            reply = self._next_reply(model, request)
        except Exception as exc:  # a test's reply function failed: say so instead of hanging up
            error(response, 500, f"fake Ollama: the scripted reply failed: {exc!r}")
            return
        if reply.error and reply.error_after is None:
            error(response, 500, reply.error)
            return
        turn = self._turn(request, model, reply, thinking, num_ctx, load_ns, started)
        try:
            (chat.stream if request.stream else chat.whole)(turn, response, self.stopping)
        finally:
            if keep_alive_seconds(keep_alive) == 0:
                self._unload(model)

    def _chat_model(self, request: OllamaRequest) -> tuple[FakeModel, bool]:
        """The installed model a chat asks for and whether it thinks, or _Refused as Ollama
        refuses the request (in Ollama's order of checks)."""
        name, think = request.model or "", request.think
        if not name:
            raise _Refused(400, "model is required")
        if isinstance(think, str) and think not in THINK_LEVELS:
            raise _Refused(
                400, f'invalid think value: "{think}" (must be "high", "medium", "low", true, or false)'
            )
        if think is not None and not isinstance(think, bool | str):
            raise _Refused(400, 'think must be a boolean or string ("high", "medium", "low", true, or false)')
        model = self._installed(name)
        if model is None:
            raise _Refused(404, f'model "{name}" not found, try pulling it first')
        if not request.messages and keep_alive_seconds(request.json.get("keep_alive")) == 0:
            return model, False  # an unload request: nothing else is checked
        thinking = bool(think) if think is not None else model.thinking
        if thinking and not model.thinking:
            raise _Refused(400, f"{json.dumps(name)} does not support thinking")
        if request.json.get("tools") and not model.tools:
            raise _Refused(400, f"{model.full_name} does not support tools")
        if problem := option_error(request.options):
            raise _Refused(500, problem)
        return model, thinking

    def _turn(self, request, model, reply, thinking, num_ctx, load_ns, started) -> Turn:
        """The reply as chunks, cut to `num_predict`, with the final chunk's timings."""
        pieces = chat.pieces(reply, reply.style or model.reply_style, thinking)
        done_reason = reply.done_reason or "stop"
        num_predict = int(request.options.get("num_predict") or -1)
        if 0 < num_predict < len(pieces):
            pieces, done_reason = pieces[:num_predict], reply.done_reason or "length"
        tps = reply.tokens_per_second or model.tokens_per_second
        prompt_count = min(prompt_tokens(request.messages), num_ctx)
        prompt_ns = int(prompt_count / model.prompt_tokens_per_second * 1e9)
        eval_ns = int(len(pieces) / tps * 1e9)
        elapsed_ns = int((time.monotonic() - started) * 1e9)
        metrics = {
            "total_duration": load_ns + prompt_ns + eval_ns + elapsed_ns + 1_000_000,
            "load_duration": load_ns,
            "prompt_eval_count": prompt_count,
            "prompt_eval_duration": prompt_ns,
            "eval_count": len(pieces),
            "eval_duration": eval_ns,
        }
        metrics = {k: v for k, v in metrics.items() if v}  # Go's omitempty
        return Turn(request.model or "", reply, pieces, done_reason, metrics)
