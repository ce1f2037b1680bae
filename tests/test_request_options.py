"""Every generation setting reaches the wire: `assistant ask` (through the CLI, as users run it)
against the fake servers, asserting the request body each one received."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner, Result

from assistant.chat.backends import GenerationOptions
from assistant.chat.backends.ollama import wire_options
from assistant.cli import app
from assistant.settings import SettingsError, load_settings

from fakes_ollama import FakeOllamaServer
from fakes_openai import FakeOpenAI

R1 = "deepseek-r1:7b"
OLD_R1 = "deepseek-r1:1.5b"  # pulled before Ollama knew about thinking


@pytest.fixture
def ollama() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer() as server:
        server.add_model(R1)
        server.add_model(OLD_R1, thinking=False)
        yield server


@pytest.fixture
def openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


def ask(server: FakeOllamaServer, *args: str, **env: str) -> dict:
    """Run `assistant ask` against the fake Ollama (no knowledge base) and return the chat body."""
    environ = {"OLLAMA_HOST": server.url(), "ASSISTANT_KB": "-", "ASSISTANT_MODEL": R1, **env}
    result = CliRunner().invoke(app, ["ask", "hello?", "--json", *args], env=environ)
    assert result.exit_code == 0, result.output
    return server.last_chat.json


def ask_openai(server: FakeOpenAI, *args: str, **env: str) -> tuple[Result, dict]:
    environ = {
        "ASSISTANT_BACKEND": "openai",
        "ASSISTANT_OPENAI_BASE_URL": server.url(),
        "ASSISTANT_KB": "-",
        "ASSISTANT_MODEL": server.models[0],
        **env,
    }
    result = CliRunner().invoke(app, ["ask", "hello?", "--json", *args], env=environ)
    assert result.exit_code == 0, result.output
    return result, server.last_body()


# --- Ollama ---------------------------------------------------------------------------------------
def test_defaults_send_r1_sampling_and_leave_the_rest_to_the_server(ollama) -> None:
    body = ask(ollama)
    assert body["options"]["temperature"] == 0.6
    assert body["options"]["top_p"] == 0.95
    assert "num_predict" not in body["options"]
    assert "keep_alive" not in body  # the server's default (or its OLLAMA_KEEP_ALIVE) applies
    assert body["think"] is True
    # The fake's R1 declares a 131072-token context: capped at max_ctx's default.
    assert body["options"]["num_ctx"] == 8192


def test_num_ctx_setting_is_sent(ollama) -> None:
    assert ask(ollama, ASSISTANT_NUM_CTX="3072")["options"]["num_ctx"] == 3072


def test_max_ctx_caps_the_models_own_context(ollama) -> None:
    assert ask(ollama, ASSISTANT_MAX_CTX="2048")["options"]["num_ctx"] == 2048


def test_num_predict_setting_is_sent(ollama) -> None:
    assert ask(ollama, ASSISTANT_NUM_PREDICT="256")["options"]["num_predict"] == 256


@pytest.mark.parametrize(
    ("setting", "sent"), [("30m", "30m"), ("1h30m", "1h30m"), ("300", 300), ("-1", -1), ("0", 0)]
)
def test_keep_alive_setting_is_sent_top_level(ollama, setting: str, sent: object) -> None:
    body = ask(ollama, ASSISTANT_KEEP_ALIVE=setting)
    # Bare seconds go as a JSON number: Ollama reads a string as a Go duration, which needs a unit.
    assert body["keep_alive"] == sent
    assert isinstance(body["keep_alive"], str) is isinstance(sent, str)
    assert "keep_alive" not in body["options"]


def test_keep_alive_from_the_config_file(ollama, home) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("keep_alive = 600\nnum_predict = 99\n", encoding="utf-8")
    body = ask(ollama)
    assert body["keep_alive"] == 600
    assert body["options"]["num_predict"] == 99


def test_no_think_flag_sends_think_false(ollama) -> None:
    assert ask(ollama, "--no-think")["think"] is False


def test_think_is_not_sent_to_a_model_that_cannot_separate_it(ollama) -> None:
    # An old pull answers `think: true` with a 400: the reasoning is parsed from <think> instead.
    assert "think" not in ask(ollama, ASSISTANT_MODEL=OLD_R1)


@pytest.mark.parametrize("value", ["soon", "5 minutes", "1d", "m5", ""])
def test_bad_keep_alive_is_a_settings_error(value: str) -> None:
    if not value:  # an empty variable means "not set"
        assert load_settings(environ={"ASSISTANT_KEEP_ALIVE": value}).keep_alive is None
        return
    with pytest.raises(SettingsError, match="keep_alive: .* like 30m"):
        load_settings(environ={"ASSISTANT_KEEP_ALIVE": value})


def test_bad_keep_alive_fails_the_command_clearly() -> None:
    result = CliRunner().invoke(app, ["ask", "hi"], env={"ASSISTANT_KEEP_ALIVE": "soon"})
    assert result.exit_code == 1
    assert "keep_alive" in result.stderr and "Traceback" not in result.output


def test_ollama_wire_options_send_nothing_unset() -> None:
    assert wire_options(GenerationOptions()) == (None, None)
    options, keep_alive = wire_options(GenerationOptions(num_ctx=2048, seed=7, keep_alive="2.5"))
    assert options == {"num_ctx": 2048, "seed": 7}
    assert keep_alive == 2.5


# --- OpenAI-compatible ---------------------------------------------------------------------------
def test_openai_defaults_and_no_ollama_only_fields(openai) -> None:
    result, body = ask_openai(openai)
    assert body["temperature"] == 0.6
    assert body["top_p"] == 0.95
    assert body["stream"] is True
    assert "max_tokens" not in body
    # Context and memory are fixed when such a server loads the model: nothing to send.
    assert not {"num_ctx", "options", "keep_alive", "think"} & set(body)
    assert "Hello there." in result.stdout


def test_openai_num_predict_is_sent_as_max_tokens(openai) -> None:
    _, body = ask_openai(openai, ASSISTANT_NUM_PREDICT="128", ASSISTANT_KEEP_ALIVE="10m")
    assert body["max_tokens"] == 128
    assert "keep_alive" not in body
