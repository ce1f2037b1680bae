"""Settings: read once at the edge, then passed down.

Precedence, highest first: command-line flags, `ASSISTANT_*` environment variables (and the
conventional `OLLAMA_HOST`), `$ASSISTANT_HOME/config.toml`, built-in defaults. Nothing below the
CLI reads the environment.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformdirs import user_data_dir

if TYPE_CHECKING:
    from ingest.limits import ReadLimits


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the setting and the fix."""


def default_home() -> Path:
    """Platform-appropriate home, e.g. ~/.local/share/r1-assistant on Linux."""
    return Path(user_data_dir("r1-assistant", appauthor=False))


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=default_home)
    #: Knowledge base used when a command is given no --kb.
    kb: str = "default"
    #: Embedder spec (see vectorstore.embedders); None means "the base's own, or the default".
    embedder: str | None = None
    #: Chroma server URL; None means embedded Chroma under `home`.
    chroma_url: str | None = None
    ollama_host: str = "http://127.0.0.1:11434"
    #: Chunk size in weighted characters (a CJK character counts as several; see ingest.chunking).
    chunk_size: int = 800
    chunk_overlap: int = 120
    #: What one file may cost an ingest (see ingest.limits): its size in MB, the expanded size of
    #: a zip-based document in MB, seconds to read it, and a reader process's memory in MB.
    max_file_mb: float = 100.0
    max_expanded_mb: float = 512.0
    file_timeout: float = 120.0
    worker_memory_mb: float = 4096.0
    #: Web search engine: duckduckgo (through ddgs) or searxng.
    search_engine: str = "duckduckgo"
    searxng_url: str | None = None
    #: DuckDuckGo region (wt-wt = no region) and safe-search (on, moderate, off).
    search_region: str = "wt-wt"
    safesearch: str = "moderate"
    #: Search results whose pages are fetched, and the seconds the whole web step may take.
    web_results: int = 5
    web_budget: float = 5.0
    #: Fetch pages on private, loopback and link-local addresses too (off: refused).
    allow_private_urls: bool = False
    #: A sentence-transformers CrossEncoder name or path to rerank with; None: no reranking.
    reranker: str | None = None
    #: Chat back-end: ollama (native API) or openai (any OpenAI-compatible server).
    backend: str = "ollama"
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    #: The model to chat with; None: the largest installed R1 distill that fits this machine.
    model: str | None = None
    #: Context window per request; None: the model's own, capped at max_ctx.
    num_ctx: int | None = None
    max_ctx: int = 8192
    #: Most tokens one reply may generate (reasoning included); None: the server's default.
    num_predict: int | None = None

    @property
    def config_file(self) -> Path:
        return self.home / "config.toml"

    def read_limits(self) -> ReadLimits:
        """The ingest limits (ingest.ReadLimits) these settings ask for."""
        from ingest.limits import ReadLimits

        return ReadLimits(self.max_file_mb, self.max_expanded_mb, self.file_timeout, self.worker_memory_mb)


# Environment variable -> settings field. OLLAMA_HOST is the convention every Ollama client honours.
ENV_VARS = {
    "ASSISTANT_HOME": "home",
    "ASSISTANT_KB": "kb",
    "ASSISTANT_EMBEDDER": "embedder",
    "ASSISTANT_CHROMA_URL": "chroma_url",
    "OLLAMA_HOST": "ollama_host",
    "ASSISTANT_CHUNK_SIZE": "chunk_size",
    "ASSISTANT_CHUNK_OVERLAP": "chunk_overlap",
    "ASSISTANT_MAX_FILE_MB": "max_file_mb",
    "ASSISTANT_MAX_EXPANDED_MB": "max_expanded_mb",
    "ASSISTANT_FILE_TIMEOUT": "file_timeout",
    "ASSISTANT_WORKER_MEMORY_MB": "worker_memory_mb",
    "ASSISTANT_SEARCH_ENGINE": "search_engine",
    "ASSISTANT_SEARXNG_URL": "searxng_url",
    "ASSISTANT_SEARCH_REGION": "search_region",
    "ASSISTANT_SAFESEARCH": "safesearch",
    "ASSISTANT_WEB_RESULTS": "web_results",
    "ASSISTANT_WEB_BUDGET": "web_budget",
    "ASSISTANT_ALLOW_PRIVATE_URLS": "allow_private_urls",
    "ASSISTANT_RERANKER": "reranker",
    "ASSISTANT_BACKEND": "backend",
    "ASSISTANT_OPENAI_BASE_URL": "openai_base_url",
    "ASSISTANT_OPENAI_API_KEY": "openai_api_key",
    "ASSISTANT_MODEL": "model",
    "ASSISTANT_NUM_CTX": "num_ctx",
    "ASSISTANT_MAX_CTX": "max_ctx",
    "ASSISTANT_NUM_PREDICT": "num_predict",
}

_FIELD_TYPES = {f.name: f.type for f in fields(Settings)}


def _coerce(name: str, value: Any, origin: str) -> Any:
    kind = _FIELD_TYPES[name]
    if value is None:
        return None
    if name == "home":
        return Path(os.path.expanduser(str(value)))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{origin}: '{value}' is not a yes/no value (use 1 or 0)")
    if kind == "float":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{origin}: '{value}' is not a number") from None
        if number <= 0:
            raise SettingsError(f"{origin}: must be positive (got {value})")
        return number
    if kind in ("int", "int | None"):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{origin}: '{value}' is not a whole number") from None
        if number < 0:
            raise SettingsError(f"{origin}: must not be negative (got {number})")
        return number
    text = str(value).strip()
    return text or None if kind == "str | None" else text


def _normalise_ollama_host(host: str) -> str:
    # Ollama accepts bare "host:port" and "0.0.0.0"; turn them into a URL we can call.
    if "://" not in host:
        host = f"http://{host}"
    host = host.rstrip("/")
    if host.count(":") == 1:
        host += ":11434"
    return host.replace("://0.0.0.0", "://127.0.0.1")


def load_settings(
    flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build Settings from flags (None values ignored), the environment and config.toml."""
    environ = os.environ if environ is None else environ
    flags = {k: v for k, v in (flags or {}).items() if v is not None}

    from_env = {field_name: environ[var] for var, field_name in ENV_VARS.items() if environ.get(var)}
    env_names = {field_name: var for var, field_name in ENV_VARS.items()}

    # The home folder decides where config.toml is, so resolve it first.
    home_value = flags.get("home") or from_env.get("home")
    home = _coerce("home", home_value, "home") if home_value else default_home()
    from_file = _read_config(home / "config.toml")

    values: dict[str, Any] = {}
    for layer, origin in (
        (from_file, str(home / "config.toml")),
        (from_env, "environment"),
        (flags, "flag"),
    ):
        for name, value in layer.items():
            if name not in _FIELD_TYPES:
                raise SettingsError(
                    f"{origin}: unknown setting '{name}'. Known: {', '.join(sorted(_FIELD_TYPES))}"
                )
            where = env_names[name] if layer is from_env else f"{origin} ({name})"
            values[name] = _coerce(name, value, where)
    values["home"] = home
    settings = replace(Settings(), **values)
    if settings.backend not in ("ollama", "openai"):
        raise SettingsError(f"backend: '{settings.backend}' is not ollama or openai")
    if settings.search_engine not in ("duckduckgo", "searxng"):
        raise SettingsError(f"search_engine: '{settings.search_engine}' is not duckduckgo or searxng")
    if settings.safesearch not in ("on", "moderate", "off"):
        raise SettingsError(f"safesearch: '{settings.safesearch}' is not on, moderate or off")
    for name in ("max_file_mb", "max_expanded_mb", "file_timeout", "worker_memory_mb"):
        if not math.isfinite(getattr(settings, name)):
            var = next(v for v, f in ENV_VARS.items() if f == name)
            raise SettingsError(f"{var} ({name}): must be a finite positive number, e.g. 100")
    if settings.chunk_overlap >= settings.chunk_size:
        raise SettingsError(
            f"chunk_overlap ({settings.chunk_overlap}) must be smaller than chunk_size "
            f"({settings.chunk_size})"
        )
    return replace(settings, ollama_host=_normalise_ollama_host(settings.ollama_host))


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc}); fix or delete the file") from exc
    # Allow both flat keys and an [assistant] table.
    table = data.get("assistant", data)
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: expected key = value settings")
    return dict(table)
