"""Every bad setting is one line: the command stops with exit status 1 and one `error:` line that
names the setting and what to do, never a traceback. Cases are generated from each numeric
setting's range, plus the named ones of issue 12."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from assistant.cli import app
from assistant.settings import ENV_VARS, NUMERIC_RANGES, load_settings


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400", **(env or {})})


def assert_one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )


ENV_OF = {field: var for var, field in ENV_VARS.items()}
WHOLE = {"chunk_size", "chunk_overlap", "web_results", "num_ctx", "max_ctx", "num_predict"}


def bad_numbers() -> list[tuple[str, str]]:
    """(variable, value) pairs outside each numeric setting's range, or not numbers at all."""
    cases = []
    for field, (low, high) in NUMERIC_RANGES.items():
        values = ["nan", "inf", "-inf", "NaN", "1e999", "ten", "", f"{low - 1:g}", "-1"]
        if low > 0:
            values.append("0")
        if math.isfinite(high):
            values.append(f"{high * 10:g}")
        if field in WHOLE:
            values.append(f"{low + 0.5:g}")
        cases += [(ENV_OF[field], v) for v in values if v != ""]
    return cases


@pytest.mark.parametrize(("variable", "value"), bad_numbers())
def test_numeric_settings_refuse_nan_inf_zero_negative_and_out_of_range(variable: str, value: str) -> None:
    result = run("kb", "list", env={variable: value})
    assert_one_line_error(result, f"error: {variable}: '{value}'", "unset it")


@pytest.mark.parametrize(
    ("variable", "value", "needles"),
    [
        ("ASSISTANT_WEB_BUDGET", "nan", ["ASSISTANT_WEB_BUDGET", "from 0.5 to 600"]),
        ("ASSISTANT_WEB_BUDGET", "inf", ["ASSISTANT_WEB_BUDGET", "from 0.5 to 600"]),
        ("ASSISTANT_MAX_CTX", "0", ["ASSISTANT_MAX_CTX", "whole number from 256"]),
        ("ASSISTANT_NUM_CTX", "0", ["ASSISTANT_NUM_CTX", "whole number from 256"]),
        ("OLLAMA_HOST", "http://[bad", ["OLLAMA_HOST", "'http://[bad' is not a valid address", "host:port"]),
        ("OLLAMA_HOST", "http://gpu:99999", ["OLLAMA_HOST", "not a valid address"]),
        ("OLLAMA_HOST", "ftp://gpu", ["OLLAMA_HOST", "not an http(s) address"]),
        ("OLLAMA_HOST", "http://:11434", ["OLLAMA_HOST", "not an http(s) address"]),
        ("ASSISTANT_SEARXNG_URL", "http://[bad", ["ASSISTANT_SEARXNG_URL", "not a valid URL"]),
        ("ASSISTANT_CHROMA_URL", "http://[bad:8000", ["ASSISTANT_CHROMA_URL", "not a valid URL"]),
        ("ASSISTANT_CHROMA_URL", "chroma.local:port", ["ASSISTANT_CHROMA_URL", "not a valid URL"]),
        (
            "ASSISTANT_OPENAI_BASE_URL",
            "localhost:8080/v1",
            ["ASSISTANT_OPENAI_BASE_URL", "not an http(s) URL"],
        ),
    ],
)
def test_the_settings_named_in_the_issue_are_one_line(variable: str, value: str, needles: list[str]) -> None:
    assert_one_line_error(run("kb", "list", env={variable: value}), *needles)


def test_num_ctx_above_max_ctx_is_named() -> None:
    result = run("kb", "list", env={"ASSISTANT_NUM_CTX": "16384", "ASSISTANT_MAX_CTX": "8192"})
    assert_one_line_error(result, "ASSISTANT_NUM_CTX: 16384 is larger than max_ctx (8192)")


def test_home_pointing_at_a_file_is_named(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x", encoding="utf-8")
    result = run("kb", "list", env={"ASSISTANT_HOME": str(a_file)})
    assert_one_line_error(result, f"ASSISTANT_HOME: {a_file} is a file, not a folder")
    flag = run("--home", str(a_file), "kb", "list")
    assert_one_line_error(flag, f"--home: {a_file} is a file, not a folder")


def test_a_bad_value_in_config_toml_names_the_file_and_key(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "config.toml").write_text("max_ctx = 0\n", encoding="utf-8")
    result = run("kb", "list")
    assert_one_line_error(result, "config.toml (max_ctx): '0'")
    (home / "config.toml").write_text("num_ctx = true\n", encoding="utf-8")
    assert_one_line_error(run("kb", "list"), "config.toml (num_ctx): 'True' is not a whole number")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://ollama.example.com", "https://ollama.example.com"),
        ("https://ollama.example.com/", "https://ollama.example.com"),
        ("http://ollama.example.com", "http://ollama.example.com:11434"),
        ("ollama.example.com", "http://ollama.example.com:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
    ],
)
def test_only_http_and_bare_hosts_get_the_ollama_port(tmp_path: Path, given: str, expected: str) -> None:
    settings = load_settings({}, environ={"ASSISTANT_HOME": str(tmp_path), "OLLAMA_HOST": given})
    assert settings.ollama_host == expected
    assert run("kb", "list", env={"OLLAMA_HOST": given}).exit_code == 0
