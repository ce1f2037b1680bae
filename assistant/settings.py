"""Settings: read once at the edge, then passed down.

Precedence, highest first: command-line flags, `ASSISTANT_*` environment variables (and the
conventional `OLLAMA_HOST`), `$ASSISTANT_HOME/config.toml`, built-in defaults. Nothing below the
CLI reads the environment.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from platformdirs import user_data_dir

from vectorstore.errors import AssistantError

if TYPE_CHECKING:
    from ingest.limits import ReadLimits
    from ingest.ocr import OcrOptions
    from ingest.secret_rules import SecretRules


class SettingsError(AssistantError, ValueError):
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
    #: Read scanned PDF pages and image files by OCR (ingest.ocr); the CPU seconds one page may
    #: take, and the most pages of one file that are read so.
    ocr: bool = True
    ocr_page_timeout: float = 30.0
    ocr_max_pages: int = 300
    #: Follow symbolic links that lead out of an ingested folder (ripgrep's -L). Off: such links
    #: are skipped and listed. /proc, /sys and /dev are never read either way.
    follow_links: bool = False
    #: Secrets never indexed, beside the built-in rules (ingest.secret_rules): file-name globs
    #: and regular expressions over a document's text. config.toml lists only.
    secret_names: tuple[str, ...] = ()
    secret_patterns: tuple[str, ...] = ()
    #: A new base whose embedder is multilingual also keeps an English index (MiniLM over its
    #: English chunks), fused with the others for English queries: on by default, as it lifts
    #: English retrieval above either model alone and changes nothing for Chinese queries
    #: (benchmarks/RESULTS.md). Off: no new base gets one.
    english_index: bool = True
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
    #: How long Ollama keeps the model in memory after a reply: a duration ("30m", "1h") or
    #: seconds ("-1": for ever, "0": unload at once). None: not sent, so the server's own
    #: default (5 minutes, or its OLLAMA_KEEP_ALIVE) applies.
    keep_alive: str | None = None

    @property
    def config_file(self) -> Path:
        return self.home / "config.toml"

    def read_limits(self) -> ReadLimits:
        """The ingest limits (ingest.ReadLimits) these settings ask for."""
        from ingest.limits import ReadLimits

        return ReadLimits(self.max_file_mb, self.max_expanded_mb, self.file_timeout, self.worker_memory_mb)

    def ocr_options(self) -> OcrOptions:
        """What OCR may do in the readers (ingest.ocr.OcrOptions). One pass over a file spends at
        most 30% of the file time limit on OCR, and a page at most 40% of it, so a reader is not
        killed for a long scan: the rest is read in the next pass, from the page cache."""
        from ingest.ocr import OcrOptions

        return OcrOptions(
            enabled=self.ocr,
            page_timeout=min(self.ocr_page_timeout, 0.4 * self.file_timeout),
            max_pages=self.ocr_max_pages,
            budget=0.3 * self.file_timeout,
            cache_dir=self.home / "ocr-cache",
        )

    def secret_rules(self) -> SecretRules:
        """The secret rules (ingest.SecretRules) an ingest applies: built-in plus configured."""
        from ingest.secret_rules import SecretRules

        return SecretRules(self.secret_names, self.secret_patterns)


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
    "ASSISTANT_OCR": "ocr",
    "ASSISTANT_OCR_PAGE_TIMEOUT": "ocr_page_timeout",
    "ASSISTANT_OCR_MAX_PAGES": "ocr_max_pages",
    "ASSISTANT_FOLLOW_LINKS": "follow_links",
    "ASSISTANT_SEARCH_ENGINE": "search_engine",
    "ASSISTANT_SEARXNG_URL": "searxng_url",
    "ASSISTANT_SEARCH_REGION": "search_region",
    "ASSISTANT_SAFESEARCH": "safesearch",
    "ASSISTANT_WEB_RESULTS": "web_results",
    "ASSISTANT_WEB_BUDGET": "web_budget",
    "ASSISTANT_ALLOW_PRIVATE_URLS": "allow_private_urls",
    "ASSISTANT_ENGLISH_INDEX": "english_index",
    "ASSISTANT_RERANKER": "reranker",
    "ASSISTANT_BACKEND": "backend",
    "ASSISTANT_OPENAI_BASE_URL": "openai_base_url",
    "ASSISTANT_OPENAI_API_KEY": "openai_api_key",
    "ASSISTANT_MODEL": "model",
    "ASSISTANT_NUM_CTX": "num_ctx",
    "ASSISTANT_MAX_CTX": "max_ctx",
    "ASSISTANT_NUM_PREDICT": "num_predict",
    "ASSISTANT_KEEP_ALIVE": "keep_alive",
}

# What Ollama accepts for keep_alive: seconds, or a Go duration such as "1h30m" or "-1m".
_KEEP_ALIVE = re.compile(r"[-+]?\d+(\.\d+)?|[-+]?(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+")

_FIELD_TYPES = {f.name: f.type for f in fields(Settings)}


#: The smallest and largest value a numeric setting may take (a zero or negative context window,
#: a web budget of nan or inf, a chunk of 0 characters would fail far from the setting).
NUMERIC_RANGES: dict[str, tuple[float, float]] = {
    "chunk_size": (50, 100_000),
    "chunk_overlap": (0, 99_999),
    "web_results": (1, 50),
    "web_budget": (0.5, 600.0),
    "num_ctx": (256, 1_048_576),
    "max_ctx": (256, 1_048_576),
    "num_predict": (1, 1_048_576),
    "max_file_mb": (0.001, 1_000_000),
    "max_expanded_mb": (0.001, 10_000_000),
    "file_timeout": (0.1, 86_400),
    "worker_memory_mb": (64, 10_000_000),
    "ocr_page_timeout": (1, 86_400),
    "ocr_max_pages": (0, 1_000_000),
}


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
    if kind in ("float", "int", "int | None"):
        return _number(name, value, origin, whole=kind != "float")
    if kind == "tuple[str, ...]":
        values = _string_list(value, origin)
        if name == "secret_patterns":
            _check_secret_patterns(values, origin)
        return values
    text = str(value).strip()
    return text or None if kind == "str | None" else text


def _number(name: str, value: Any, origin: str, *, whole: bool) -> int | float:
    low, high = NUMERIC_RANGES.get(name, (0, math.inf))
    span = f"from {_number_text(low)} to {_number_text(high)}"
    problem = f"{origin}: '{value}' is not {'a whole number' if whole else 'a number'} {span}"
    try:
        if isinstance(value, bool):  # TOML `true` is not 1
            raise ValueError
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        raise SettingsError(f"{problem}; set one, or unset it for the default") from None
    if not math.isfinite(number) or not low <= number <= high or (whole and not number.is_integer()):
        raise SettingsError(f"{problem}; set one, or unset it for the default")
    return int(number) if whole else number


def _string_list(value: Any, origin: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SettingsError(f'{origin}: expected a list of non-empty strings, like ["*.secret"]')
    return tuple(value)


def _check_secret_patterns(patterns: tuple[str, ...], origin: str) -> None:
    """Refuse a `secret_patterns` entry that is not a usable regular expression."""
    from ingest.secret_rules import SecretPatternError, check_pattern  # only when some are set

    for pattern in patterns:
        try:
            check_pattern(pattern)
        except SecretPatternError as exc:
            raise SettingsError(f"{origin}: {exc}; fix or remove it") from None


def _number_text(number: float) -> str:
    return str(int(number)) if math.isfinite(number) and number == int(number) else f"{number:g}"


def _normalise_ollama_host(host: str, origin: str = "OLLAMA_HOST") -> str:
    """A callable URL for what Ollama accepts in OLLAMA_HOST: "host", "host:port", "0.0.0.0",
    or a URL. Only a scheme-less or http:// URL without a port gets Ollama's 11434."""
    text = host.strip()
    if "://" not in text:
        text = f"http://{text}"
    try:
        parts = urlsplit(text.rstrip("/"))
        port = parts.port
    except ValueError as exc:
        raise SettingsError(
            f"{origin}: '{host}' is not a valid address ({exc}); use host:port or a URL such as "
            "http://127.0.0.1:11434"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"{origin}: '{host}' is not an http(s) address; use host:port or a URL such as "
            "http://127.0.0.1:11434"
        )
    netloc = parts.netloc
    if port is None and parts.scheme == "http":
        netloc += ":11434"
    if parts.hostname == "0.0.0.0":  # a server's "listen everywhere" is reached on loopback
        netloc = netloc.replace("0.0.0.0", "127.0.0.1", 1)
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _check_url(value: str | None, origin: str, *, bare_host_ok: bool = False) -> None:
    """Refuse a URL that cannot be parsed or is not http(s) (`bare_host_ok`: "host:port" too)."""
    if value is None:
        return
    try:
        parts = urlsplit(value if "://" in value or not bare_host_ok else f"http://{value}")
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise SettingsError(f"{origin}: '{value}' is not a valid URL ({exc}); fix or unset it") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{origin}: '{value}' is not an http(s) URL; use e.g. http://127.0.0.1:PORT")


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
    home_origin = "--home" if flags.get("home") else "ASSISTANT_HOME" if from_env.get("home") else "home"
    if home.exists() and not home.is_dir():
        raise SettingsError(
            f"{home_origin}: {home} is a file, not a folder; point it at a folder (it is created if missing)"
        )
    from_file = _read_config(home / "config.toml")

    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
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
            origins[name] = where
    values["home"] = home
    settings = replace(Settings(), **values)
    _check_together(settings, origins)
    ollama_host = _normalise_ollama_host(settings.ollama_host, origins.get("ollama_host", "ollama_host"))
    return replace(settings, ollama_host=ollama_host)


def _check_together(settings: Settings, origins: Mapping[str, str]) -> None:
    """What a value alone cannot say: formats checked after coercion, and settings that must
    agree with each other. `origins` says where each value came from, for the message."""
    # Back-end and search engine names are checked against their registries (assistant.chat.backends,
    # assistant.web.engines) where those parts are made: importing them here would slow every command.
    if settings.keep_alive is not None and not _KEEP_ALIVE.fullmatch(settings.keep_alive):
        raise SettingsError(
            f"keep_alive: '{settings.keep_alive}' is not seconds or a duration like 30m or 1h "
            "(ASSISTANT_KEEP_ALIVE)"
        )
    if settings.safesearch not in ("on", "moderate", "off"):
        raise SettingsError(f"safesearch: '{settings.safesearch}' is not on, moderate or off")
    if settings.num_ctx is not None and settings.num_ctx > settings.max_ctx:
        raise SettingsError(
            f"{origins.get('num_ctx', 'num_ctx')}: {settings.num_ctx} is larger than max_ctx "
            f"({settings.max_ctx}); lower it or raise ASSISTANT_MAX_CTX"
        )
    if settings.chunk_overlap >= settings.chunk_size:
        raise SettingsError(
            f"chunk_overlap ({settings.chunk_overlap}) must be smaller than chunk_size "
            f"({settings.chunk_size})"
        )
    for name in ("chroma_url", "searxng_url", "openai_base_url"):
        # Chroma's client takes a bare host:port as well.
        _check_url(getattr(settings, name), origins.get(name, name), bare_host_ok=name == "chroma_url")


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


def save_config_value(path: Path, key: str, value: str) -> Path:
    """Set `key = "value"` in the config file at `path` (created if missing), keeping every other
    line, comment and table as written: in the `[assistant]` table when the file has one, else
    among the top-level keys. The file is replaced whole, and only if the result reads back."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if re.match(r"\s*\[", line)]
    table = next((i for i in headers if re.match(r"\s*\[\s*assistant\s*\]", lines[i])), None)
    start = table + 1 if table is not None else 0
    end = next((i for i in headers if i >= start), len(lines))
    entry = f"{key} = {json.dumps(value, ensure_ascii=False)}"
    found = next((i for i in range(start, end) if re.match(rf"\s*{re.escape(key)}\s*=", lines[i])), None)
    if found is not None:
        lines[found] = entry
    else:
        lines.insert(end if table is not None else 0, entry)
    updated = "\n".join(lines) + "\n"
    try:
        data = tomllib.loads(updated)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc}); fix or delete the file") from exc
    if data.get("assistant", data).get(key) != value:
        raise SettingsError(f"{path}: could not set {key}; set `{entry}` there by hand")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(updated, encoding="utf-8")
    os.replace(temporary, path)
    return path
