"""What the fake Ollama writes and checks the way Ollama's Go code does: RFC 3339 times with
nanoseconds, `keep_alive` durations, and the errors `api.Options.FromMap` gives for mistyped
options."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any


def timestamp(dt: datetime | None = None) -> str:
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


def keep_alive_seconds(value: Any) -> float:
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
THINK_LEVELS = ("high", "medium", "low")


def option_error(options: Any) -> str | None:
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
