"""The models a fake Ollama has, as it reports them: sizes, families, context lengths, the
"thinking" capability (from the template, as Ollama infers it), the DeepSeek-R1 library tags, and
the embedding every model name gets (a hashed bag of words: a base of hundreds of chunks is built
in milliseconds through the same `ollama:MODEL` embedder users run)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from fakes_ollama_go import timestamp

#: The length of every embedding the fake returns.
DIMENSION = 64
#: A model name the fake does not have, for "model not pulled" errors.
MISSING_MODEL = "not-pulled"

_WORD = re.compile(r"[\u4e00-\u9fff]|\w+")


def hashed_vector(text: str, dimension: int = DIMENSION) -> list[float]:
    """A unit vector of `text`'s words hashed into `dimension` slots: texts that share words are near."""
    vector = [0.0] * dimension
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dimension
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


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


# --- What the API reports about a model ---------------------------------------------------------


def details(model: FakeModel) -> dict:
    """The `details` object of `/api/tags`, `/api/ps` and `/api/show`."""
    return {
        "parent_model": "",
        "format": "gguf",
        "family": model.family,
        "families": [model.family],
        "parameter_size": model.parameter_size,
        "quantization_level": model.quantization,
    }


def tag_entry(model: FakeModel) -> dict:
    """The model as `/api/tags` lists it."""
    return {
        "name": model.name,
        "model": model.name,
        "modified_at": timestamp(model.modified_at),
        "size": model.total_size,
        "digest": model.digest,
        "details": details(model),
    }


def show_entry(model: FakeModel) -> dict:
    """What `/api/show` answers for the model: template, parameters, model_info, capabilities."""
    template = model.template or (R1_TEMPLATE if model.thinking else R1_TEMPLATE_OLD)
    parameters = "\n".join(
        f"{key:<30} {json.dumps(v, ensure_ascii=False)}"
        for key, value in model.parameters.items()
        for v in (value if isinstance(value, list) else [value])
    )
    arch = model.family
    return {
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
        "details": details(model),
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
        "modified_at": timestamp(model.modified_at),
    }


def pull_progress(model: FakeModel) -> list[dict]:
    """The progress lines of pulling `model`: each layer in a few steps, then the checks."""
    progress: list[dict] = [{"status": "pulling manifest"}]
    for digest, size in model.layers():
        status = f"pulling {digest[7:19]}"
        progress.append({"status": status, "digest": digest, "total": size})
        steps = 4 if size > 1_000_000 else 1
        progress += [
            {"status": status, "digest": digest, "total": size, "completed": size * i // steps}
            for i in range(1, steps + 1)
        ]
    return progress + [{"status": "verifying sha256 digest"}, {"status": "writing manifest"}]
