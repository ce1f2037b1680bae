"""A fake Ollama server speaking the real native API over loopback: embeddings and chat models.

Embeddings (`/api/embed`) are a hashed bag of words, so a knowledge base of hundreds of chunks is
built in milliseconds through the same `ollama:MODEL` embedder users run. Any embedding model name
works except `MISSING_MODEL`.

Chat models are scripted. A test installs models (`add_model`), makes others pullable (`offer`; the
DeepSeek-R1 library tags always are), and scripts what each model answers (`script`): reasoning and
answer text, how the reasoning arrives (Ollama's `thinking` field, inline `<think>` tags, or only a
closing `</think>`), tokens per second, a delay between chunks, a stream cut after N chunks, or an
error. Every request is recorded (`requests`, `chats`), so tests can assert what was sent.

    server = FakeOllamaServer().start()
    server.add_model("deepseek-r1:7b")
    server.add_model("deepseek-r1:1.5b-old", thinking=False)  # an old pull: no "thinking" capability
    server.script("deepseek-r1:7b", Reply(reasoning="Two plus two...", answer="4", tokens_per_second=30))
    server.script("deepseek-r1:1.5b-old", lambda req: Reply(reasoning="Hm.", answer=req.prompt.upper()))
    ...  # point the code under test at server.url
    assert server.last_chat.options["num_ctx"] == 8192

It serves the endpoints the assistant uses (`/api/tags`, `/api/show`, `/api/pull`, `/api/ps`,
`/api/chat`, `/api/embed`) as ollama/ollama `server/routes.go` and `api/types.go` do: Go's
`omitempty` fields, error texts and status codes, durations in nanoseconds. The HTTP side (chunked
NDJSON streams, cut connections, recording) is `ollama_wire`; this module is the behaviour.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from ollama_wire import Cut, Exchange, RecordedRequest, WireServer

DIMENSION = 64
#: A model name the fake does not have, for "model not pulled" errors.
MISSING_MODEL = "not-pulled"

_WORD = re.compile(r"[\u4e00-\u9fff]|\w+")


def hashed_vector(text: str, dimension: int = DIMENSION) -> list[float]:
    vector = [0.0] * dimension
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dimension
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


# --- Tokens -------------------------------------------------------------------------------------

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(
    r"</?think>"  # special tokens in the R1 distills' vocabulary: never split
    r"|\n+"
    rf"|[ \t]?[{_CJK}]"  # one CJK character per token
    r"|[ \t]?\d"  # Qwen's tokenizer splits numbers into digits
    rf"|[ \t]?(?:(?![{_CJK}])[^\W\d_])+"  # a word with its leading space
    r"|[ \t]*(?:(?!</?think>)[^\w\s]){1,3}"  # punctuation, a few marks at most ("**", "...")
    r"|[ \t]+"
    r"|.",
    re.DOTALL,
)
_LONGEST_PIECE = 6


def tokens(text: str) -> list[str]:
    """Token-like pieces of `text` (words with their leading space, long words cut into pieces of a
    few characters, digits and CJK characters one by one, `<think>`/`</think>` whole); they join back
    to `text`. The fake streams one piece per chunk and counts them as tokens."""
    pieces: list[str] = []
    for piece in _TOKEN.findall(text):
        while len(piece) > _LONGEST_PIECE and piece.strip().isalpha():
            pieces.append(piece[:_LONGEST_PIECE])
            piece = piece[_LONGEST_PIECE:]
        pieces.append(piece)
    return pieces


def prompt_tokens(messages: list[dict]) -> int:
    """What the fake reports as `prompt_eval_count` before the context window cuts it: the tokens of
    every message plus a few for the chat template's role markers."""
    return 2 + sum(4 + len(tokens(str(m.get("content") or ""))) for m in messages)


# --- Models -------------------------------------------------------------------------------------

Style = Literal["native", "inline", "close-only"]

_R1_STOPS = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>"]
# Abridged forms of the library's deepseek-r1 templates, before and after thinking support (0.9):
# Ollama infers the "thinking" capability from template variables like `.Thinking`.
R1_TEMPLATE = (
    "{{- if .System }}{{ .System }}{{ end }}\n{{- range $i, $_ := .Messages }}\n"
    "{{- $last := eq (len (slice $.Messages $i)) 1}}\n"
    '{{- if eq .Role "user" }}<｜User｜>{{ .Content }}\n'
    '{{- else if eq .Role "assistant" }}<｜Assistant｜>\n'
    "  {{- if and $.IsThinkSet (and $last .Thinking) -}}\n<think>\n{{ .Thinking }}\n</think>\n"
    "{{- end }}{{ .Content }}{{- if not $last }}<｜end▁of▁sentence｜>{{- end }}\n{{- end }}\n"
    '{{- if and $last (ne .Role "assistant") }}<｜Assistant｜>\n'
    "{{- if and $.IsThinkSet (not $.Think) -}}\n<think>\n\n</think>\n\n{{ end }}\n{{- end -}}\n{{- end }}"
)
R1_TEMPLATE_OLD = (
    "{{- if .System }}{{ .System }}{{ end }}\n{{- range $i, $_ := .Messages }}\n"
    "{{- $last := eq (len (slice $.Messages $i)) 1}}\n"
    '{{- if eq .Role "user" }}<｜User｜>{{ .Content }}\n'
    '{{- else if eq .Role "assistant" }}<｜Assistant｜>{{ .Content }}'
    "{{- if not $last }}<｜end▁of▁sentence｜>{{- end }}\n{{- end }}\n"
    '{{- if and $last (ne .Role "assistant") }}<｜Assistant｜>{{- end }}\n{{- end }}'
)
_BITS_PER_WEIGHT = {"Q4_0": 4.55, "Q4_K_M": 4.9, "Q5_K_M": 5.7, "Q6_K": 6.6, "Q8_0": 8.5, "F16": 16.0}
_FILE_TYPE = {"F16": 1, "Q4_0": 2, "Q8_0": 7, "Q4_K_M": 15, "Q5_K_M": 17, "Q6_K": 18}


@dataclass
class FakeModel:
    """A model as the fake reports it. Only `name` is required; `add_model` fills the rest from
    `R1_LIBRARY` when the name is a DeepSeek-R1 library tag."""

    name: str
    #: GGUF architecture: `details.family` and the prefix of `model_info`'s keys.
    family: str = "qwen2"
    parameter_size: str = "7.6B"
    quantization: str = "Q4_K_M"
    #: The trained context length, `model_info["<family>.context_length"]`; caps `num_ctx`.
    context_length: int = 131072
    #: The "thinking" capability (templates from Ollama 0.9 on); without it `think: true` is a 400.
    thinking: bool = True
    tools: bool = False
    #: Bytes on disk; 0 estimates it from the parameter size and the quantization.
    size: int = 0
    tokens_per_second: float = 25.0
    prompt_tokens_per_second: float = 400.0
    #: The nominal `load_duration` when the model is not loaded yet (or `num_ctx` changed).
    load_seconds: float = 2.0
    #: How replies carry reasoning unless a `Reply` says otherwise: None is "native" for a model
    #: with the thinking capability, "inline" without.
    style: Style | None = None
    template: str | None = None
    parameters: dict[str, Any] = field(default_factory=lambda: {"stop": list(_R1_STOPS)})
    license: str = "MIT License\n\nCopyright (c) 2023 DeepSeek"
    modified_at: datetime | None = None

    @property
    def capabilities(self) -> list[str]:
        return ["completion"] + ["tools"] * self.tools + ["thinking"] * self.thinking

    @property
    def reply_style(self) -> Style:
        return self.style or ("native" if self.thinking else "inline")

    @property
    def parameter_count(self) -> int:
        number, unit = re.fullmatch(r"([\d.]+)\s*([KMB]?)", self.parameter_size.upper()).groups()
        return int(float(number) * {"K": 1e3, "M": 1e6, "B": 1e9, "": 1}[unit])

    @property
    def total_size(self) -> int:
        bits = _BITS_PER_WEIGHT.get(self.quantization, 5.0)
        return self.size or int(self.parameter_count * bits / 8)

    @property
    def full_name(self) -> str:
        """The fully qualified name, as in "registry.ollama.ai/library/deepseek-r1:7b does not
        support tools"."""
        parts = self.name.split("/")
        if len(parts) == 1:
            parts.insert(0, "library")
        if len(parts) == 2:
            parts.insert(0, "registry.ollama.ai")
        return "/".join(parts)

    def layers(self) -> list[tuple[str, int]]:
        """(digest, size) of each blob a pull downloads: weights, template, license, params, config."""
        small = [("template", 556), ("license", 1065), ("params", 148), ("config", 487)]
        layers = [("model", self.total_size - sum(s for _, s in small))] + small
        return [(_digest(self.name, kind), size) for kind, size in layers]

    @property
    def digest(self) -> str:
        """The manifest digest `/api/tags` lists (bare hex, unlike layer digests)."""
        return _digest(self.name, "manifest")[len("sha256:") :]


def _digest(*parts: str) -> str:
    return "sha256:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _r1(tag: str, family: str, params: str, size: int, tps: float, **extra: Any) -> FakeModel:
    return FakeModel(
        f"deepseek-r1:{tag}", family=family, parameter_size=params, size=size, tokens_per_second=tps, **extra
    )


#: The deepseek-r1 tags of the Ollama library (Q4_K_M; sizes as `ollama list` shows them, about).
R1_LIBRARY: dict[str, FakeModel] = {
    m.name: m
    for m in (
        _r1("1.5b", "qwen2", "1.8B", 1_117_322_599, 60.0, load_seconds=1.0),
        _r1("7b", "qwen2", "7.6B", 4_683_075_271, 25.0),
        _r1("8b", "qwen3", "8.2B", 5_225_376_047, 22.0, tools=True),
        _r1("latest", "qwen3", "8.2B", 5_225_376_047, 22.0, tools=True),
        _r1("14b", "qwen2", "14.8B", 8_988_112_040, 12.0, load_seconds=4.0),
        _r1("32b", "qwen2", "32.8B", 19_851_337_640, 6.0, load_seconds=8.0),
        _r1("70b", "llama", "70.6B", 42_520_413_916, 3.0, load_seconds=20.0),
    )
}


def canonical(name: str) -> str:
    """Ollama's short form of a model name: no registry or `library/` prefix, `:latest` by default."""
    name = name.strip()
    for prefix in ("registry.ollama.ai/library/", "registry.ollama.ai/", "library/"):
        if name.lower().startswith(prefix):
            name = name[len(prefix) :]
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


# --- Replies ------------------------------------------------------------------------------------


@dataclass
class Reply:
    """What a model answers to one chat request."""

    answer: str = ""
    reasoning: str = ""
    #: "native": reasoning in `message.thinking` chunks (only when thinking is on), then the answer
    #: in `message.content`; "inline": content is `<think>\n...\n</think>\n\n` + answer (older servers
    #: and templates); "close-only": content is reasoning + `\n</think>\n\n` + answer. Inline styles
    #: ignore the think flag, as the servers that produce them do; no reasoning means no tags.
    #: None: the model's style.
    style: Style | None = None
    #: Tokens per second for `eval_duration`; None: the model's.
    tokens_per_second: float | None = None
    #: Seconds to wait before each chunk.
    delay: float = 0.0
    #: Close the connection after this many chunks, without a final `done` line.
    cut_after: int | None = None
    #: Fail with this message: HTTP 500 before anything is sent, or, with `error_after`, an
    #: NDJSON `{"error": ...}` line after that many chunks (as the real server reports a runner crash).
    error: str | None = None
    error_after: int | None = None
    #: Override the final `done_reason` ("stop", or "length" when `options.num_predict` cut it).
    done_reason: str | None = None
    #: Stream fixed-size pieces of this many characters instead of token-like pieces (then tags
    #: like `</think>` can be split across chunks, as some proxies do).
    chunk_size: int | None = None


ReplyScript = Reply | str | Callable[["RecordedRequest"], "Reply | str"]


def _default_reply(model: FakeModel, request: RecordedRequest) -> Reply:
    reasoning = f"Okay, the user asks: {request.prompt[:200]}. Let me answer briefly."
    return Reply(reasoning=reasoning if model.thinking else "", answer=f"This is the answer of {model.name}.")


# --- Requests -----------------------------------------------------------------------------------


# --- Wire helpers -------------------------------------------------------------------------------


def _timestamp(dt: datetime | None = None) -> str:
    """Go's RFC 3339 with nanoseconds: UTC as "Z", trailing zeros of the fraction dropped."""
    if dt is None:
        seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
        dt = datetime.fromtimestamp(seconds, UTC)
    else:
        nanos = dt.microsecond * 1000
    fraction = f".{nanos:09d}".rstrip("0").rstrip(".")
    offset = dt.strftime("%z") or "+0000"
    zone = "Z" if offset == "+0000" else f"{offset[:3]}:{offset[3:]}"
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + fraction + zone


_DURATION_PART = re.compile(r"(-?[\d.]+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _keep_alive_seconds(value: Any) -> float:
    """`keep_alive` as seconds (a number, or a Go duration like "5m"); negative: forever."""
    if value is None:
        return 300.0
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)  # "0", "-1", "300": seconds
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if parts and "".join(n + u for n, u in parts) == text:
        return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    return 300.0


_INT_OPTIONS = {
    "num_ctx", "num_predict", "num_keep", "seed", "top_k", "repeat_last_n", "num_batch", "num_gpu",
    "main_gpu", "num_thread", "mirostat",
}  # fmt: skip
_FLOAT_OPTIONS = {
    "temperature", "top_p", "min_p", "typical_p", "repeat_penalty", "presence_penalty",
    "frequency_penalty", "mirostat_tau", "mirostat_eta",
}  # fmt: skip
_THINK_LEVELS = ("high", "medium", "low")


def _option_error(options: Any) -> str | None:
    """The error `api.Options.FromMap` gives for a mistyped option (unknown ones are ignored)."""
    if not isinstance(options, dict):
        return None
    for key, value in options.items():
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if key in _INT_OPTIONS and value is not None and not is_number:
            return f'option "{key}" must be of type integer'
        if key in _FLOAT_OPTIONS and value is not None and not is_number:
            return f'option "{key}" must be of type float32'
    return None


# --- The server ---------------------------------------------------------------------------------


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


class FakeOllamaServer(WireServer):
    """Ollama's native API on 127.0.0.1 and a free port, served from a thread: `start()`, `.url`,
    `stop()` (or use it as a context manager)."""

    daemon_threads = True

    name = "fake-ollama"

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
        `RecordedRequest` returning either. Replaces what was scripted before for that model."""
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
    def chats(self) -> list[RecordedRequest]:
        return self.requests_to("/api/chat")

    @property
    def last_chat(self) -> RecordedRequest:
        chats = self.chats
        if not chats:
            raise AssertionError("the fake Ollama received no /api/chat request")
        return chats[-1]

    # Routing ------------------------------------------------------------------------------------

    def answer(self, request: RecordedRequest, out: Exchange) -> None:
        methods = _ROUTES.get(request.path)
        if methods is None:
            out.text(404, "404 page not found")
        elif request.method not in methods:
            out.text(405, "405 method not allowed")
        elif request.path == "/":
            out.text(200, "Ollama is running")
        elif request.path == "/api/tags":
            out.json(200, {"models": self._tags()})
        elif request.path == "/api/ps":
            out.json(200, {"models": self._ps()})
        elif not request.raw.strip():
            out.error(400, "missing request body")
        elif not isinstance(request.body, dict):
            # Go's encoding/json words it differently ("invalid character ..."); same status.
            out.error(400, "invalid JSON in request body")
        else:
            handler = {
                "/api/show": self._show,
                "/api/pull": self._pull,
                "/api/chat": self._chat,
                "/api/embed": self._embed,
            }[request.path]
            handler(request, out)

    def _installed(self, name: str) -> FakeModel | None:
        with self.lock:
            return self.models.get(canonical(name).lower()) if name else None

    # Model management ---------------------------------------------------------------------------

    @staticmethod
    def _details(model: FakeModel) -> dict:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": model.family,
            "families": [model.family],
            "parameter_size": model.parameter_size,
            "quantization_level": model.quantization,
        }

    def _tags(self) -> list[dict]:
        with self.lock:
            models = sorted(self.models.values(), key=lambda m: m.modified_at, reverse=True)
        return [
            {
                "name": m.name,
                "model": m.name,
                "modified_at": _timestamp(m.modified_at),
                "size": m.total_size,
                "digest": m.digest,
                "details": self._details(m),
            }
            for m in models
        ]

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
                "details": self._details(m),
                "expires_at": _timestamp(
                    datetime.fromtimestamp(min(state.expires_at, now + 1e9)).astimezone()
                ),
                "size_vram": m.total_size,
                "context_length": state.num_ctx,
            }
            for m, state in running
        ]

    def _show(self, request: RecordedRequest, out: Exchange) -> None:
        name = request.body.get("model") or request.body.get("name") or ""
        if not name:
            out.error(400, "model is required")
            return
        model = self._installed(name)
        if model is None:
            out.error(404, f"model '{name}' not found")
            return
        template = model.template or (R1_TEMPLATE if model.thinking else R1_TEMPLATE_OLD)
        parameters = "\n".join(
            f"{key:<30} {json.dumps(v, ensure_ascii=False)}"
            for key, value in model.parameters.items()
            for v in (value if isinstance(value, list) else [value])
        )
        arch = model.family
        out.json(
            200,
            {
                "license": model.license,
                "modelfile": (
                    '# Modelfile generated by "ollama show"\n'
                    "# To build a new Modelfile based on this, replace FROM with:\n"
                    f"# FROM {model.name}\n\n"
                    f"FROM /root/.ollama/models/blobs/{model.layers()[0][0].replace(':', '-')}\n"
                    f'TEMPLATE """{template}"""\n'
                    + "".join(f"PARAMETER {line}\n" for line in parameters.splitlines())
                ),
                "parameters": parameters,
                "template": template,
                "details": self._details(model),
                "model_info": {
                    "general.architecture": arch,
                    "general.basename": model.name.split(":")[0].rsplit("/", 1)[-1],
                    "general.file_type": _FILE_TYPE.get(model.quantization, 15),
                    "general.parameter_count": model.parameter_count,
                    "general.quantization_version": 2,
                    f"{arch}.context_length": model.context_length,
                    "tokenizer.ggml.model": "gpt2",
                },
                "capabilities": model.capabilities,
                "modified_at": _timestamp(model.modified_at),
            },
        )

    def _pull(self, request: RecordedRequest, out: Exchange) -> None:
        name = request.body.get("model") or request.body.get("name") or ""
        if not name.strip():
            out.error(400, "invalid model name")
            return
        name = canonical(name)
        with self.lock:
            offered = self.registry.get(name.lower())
        progress: list[dict] = [{"status": "pulling manifest"}]
        if offered is not None:
            for digest, size in offered.layers():
                status = f"pulling {digest[7:19]}"
                progress.append({"status": status, "digest": digest, "total": size})
                steps = 4 if size > 1_000_000 else 1
                progress += [
                    {"status": status, "digest": digest, "total": size, "completed": size * i // steps}
                    for i in range(1, steps + 1)
                ]
            progress += [{"status": "verifying sha256 digest"}, {"status": "writing manifest"}]
        error = None if offered else "pull model manifest: file does not exist"
        if not request.stream:
            # Ollama collects the progress and answers with the last line, or the error as a 500.
            if error:
                out.error(500, error)
            else:
                self._install_pulled(offered, name)
                out.json(200, {"status": "success"})
            return
        for line in progress:
            if self.pull_delay and self.stopping.wait(self.pull_delay):
                raise Cut
            out.line(line)
        if error:
            out.line({"error": error})
        else:
            self._install_pulled(offered, name)
            out.line({"status": "success"})
        out.end()

    def _install_pulled(self, offered: FakeModel, name: str) -> None:
        self.add_model(replace(offered, name=name, modified_at=None))

    # Inference ----------------------------------------------------------------------------------

    def _embed(self, request: RecordedRequest, out: Exchange) -> None:
        model = request.body.get("model", "")
        if model == MISSING_MODEL:
            out.error(404, f'model "{model}" not found, try pulling it first')
            return
        texts = request.body.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        with self.lock:
            self.embed_calls += 1
            self.texts_embedded += len(texts)
        if self.embed_delay:
            time.sleep(self.embed_delay * len(texts))
        out.json(200, {"model": model, "embeddings": [hashed_vector(t) for t in texts]})

    def _load(self, model: FakeModel, num_ctx: int, keep_alive: Any) -> int:
        """Nanoseconds spent loading: the model's load time unless it is loaded with this context
        window already (Ollama reloads a model whose `num_ctx` changes)."""
        key, now = model.name.lower(), time.time()
        seconds = _keep_alive_seconds(keep_alive)
        with self.lock:
            current = self.loaded.get(key)
            warm = current is not None and current.num_ctx == num_ctx and current.expires_at > now
            if not warm:
                self.loads += 1
            self.loaded[key] = _Loaded(num_ctx, math.inf if seconds < 0 else now + seconds)
        return 18_000_000 if warm else int(model.load_seconds * 1e9)

    def _next_reply(self, model: FakeModel, request: RecordedRequest) -> Reply:
        with self.lock:
            queue = self._scripts.get(model.name.lower())
            script = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else None
        if script is None:
            return _default_reply(model, request)
        if callable(script):
            script = script(request)
        return Reply(answer=script) if isinstance(script, str) else script

    def _chat(self, request: RecordedRequest, out: Exchange) -> None:
        body, started = request.body, time.monotonic()
        name = body.get("model") or ""
        think = body.get("think")
        if not name:
            out.error(400, "model is required")
            return
        if isinstance(think, str) and think not in _THINK_LEVELS:
            levels = '"high", "medium", "low", true, or false'
            out.error(400, f'invalid think value: "{think}" (must be {levels})')
            return
        if think is not None and not isinstance(think, bool | str):
            out.error(400, 'think must be a boolean or string ("high", "medium", "low", true, or false)')
            return
        model = self._installed(name)
        if model is None:
            out.error(404, f'model "{name}" not found, try pulling it first')
            return
        messages, keep_alive = body.get("messages") or [], body.get("keep_alive")
        if not messages and _keep_alive_seconds(keep_alive) == 0:
            with self.lock:
                self.loaded.pop(model.name.lower(), None)
            out.json(200, self._chunk(name, {"role": "assistant", "content": ""}, done_reason="unload"))
            return
        thinking = bool(think) if think is not None else model.thinking
        if thinking and not model.thinking:
            out.error(400, f"{json.dumps(name)} does not support thinking")
            return
        if body.get("tools") and not model.tools:
            out.error(400, f"{model.full_name} does not support tools")
            return
        options = body.get("options") or {}
        if problem := _option_error(options):
            out.error(500, problem)
            return
        num_ctx = min(int(options.get("num_ctx") or self.default_num_ctx), model.context_length)
        load_ns = self._load(model, num_ctx, keep_alive)
        if not messages:
            out.json(200, self._chunk(name, {"role": "assistant", "content": ""}, done_reason="load"))
            return

        try:
            reply = self._next_reply(model, request)
        except Exception as exc:  # a test's reply function failed: say so instead of hanging up
            out.error(500, f"fake Ollama: the scripted reply failed: {exc!r}")
            return
        if reply.error and reply.error_after is None:
            out.error(500, reply.error)
            return
        pieces = self._pieces(reply, reply.style or model.reply_style, thinking)
        done_reason = reply.done_reason or "stop"
        num_predict = int(options.get("num_predict") or -1)
        if 0 < num_predict < len(pieces):
            pieces, done_reason = pieces[:num_predict], reply.done_reason or "length"
        tps = reply.tokens_per_second or model.tokens_per_second
        prompt_count = min(prompt_tokens(messages), num_ctx)
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

        try:
            if request.stream:
                self._stream(name, reply, pieces, done_reason, metrics, out)
            else:
                self._whole(name, reply, pieces, done_reason, metrics, out)
        finally:
            if _keep_alive_seconds(keep_alive) == 0:
                with self.lock:
                    self.loaded.pop(model.name.lower(), None)

    @staticmethod
    def _pieces(reply: Reply, style: Style, thinking: bool) -> list[tuple[str, str]]:
        """(field, text) of each chunk, field being "thinking" or "content"."""

        def split(text: str) -> list[str]:
            if reply.chunk_size:
                return [text[i : i + reply.chunk_size] for i in range(0, len(text), reply.chunk_size)]
            return tokens(text)

        reasoning, answer = reply.reasoning, reply.answer
        if style == "native":
            thought = [("thinking", t) for t in split(reasoning)] if thinking else []
            return thought + [("content", t) for t in split(answer)]
        if reasoning and style == "inline":
            answer = f"<think>\n{reasoning}\n</think>\n\n{answer}"
        elif reasoning:
            answer = f"{reasoning}\n</think>\n\n{answer}"
        return [("content", t) for t in split(answer)]

    @staticmethod
    def _chunk(name: str, message: dict, *, done_reason: str | None = None, **metrics: int) -> dict:
        chunk: dict[str, Any] = {"model": name, "created_at": _timestamp(), "message": message}
        chunk["done"] = done_reason is not None
        if done_reason is not None:
            chunk["done_reason"] = done_reason
        return chunk | metrics

    def _stream(self, name, reply, pieces, done_reason, metrics, out: Exchange) -> None:
        for index, (kind, text) in enumerate(pieces):
            if index == reply.cut_after:
                raise Cut
            if index == reply.error_after:
                out.line({"error": reply.error})
                out.end()
                return
            if reply.delay and self.stopping.wait(reply.delay):
                raise Cut
            message = {"role": "assistant", "content": text if kind == "content" else ""}
            if kind == "thinking":
                message["thinking"] = text
            out.line(self._chunk(name, message))
        if reply.cut_after is not None:
            raise Cut
        if reply.error_after is not None:
            out.line({"error": reply.error})
            out.end()
            return
        out.line(self._chunk(name, {"role": "assistant", "content": ""}, done_reason=done_reason, **metrics))
        out.end()

    def _whole(self, name, reply, pieces, done_reason, metrics, out: Exchange) -> None:
        if reply.cut_after is not None:
            raise Cut  # the server dies before answering
        if reply.error_after is not None:
            out.error(500, reply.error)
            return
        if reply.delay and self.stopping.wait(reply.delay * len(pieces)):
            raise Cut
        message = {"role": "assistant", "content": "".join(t for k, t in pieces if k == "content")}
        if thought := "".join(t for k, t in pieces if k == "thinking"):
            message["thinking"] = thought
        out.json(200, self._chunk(name, message, done_reason=done_reason, **metrics))
