"""Settings precedence: flag > environment > $home/config.toml > default; --home picks the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import settings as settings_module
from assistant.settings import Settings, SettingsError, load_settings


def config(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text, encoding="utf-8")
    return home


@pytest.fixture
def default_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The platform default home, moved into tmp_path so no real config is read."""
    home = tmp_path / "platform-default"
    monkeypatch.setattr(settings_module, "default_home", lambda: home)
    return home


def test_defaults(default_home: Path) -> None:
    s = load_settings({}, environ={})
    assert s.home == default_home
    assert (s.kb, s.embedder, s.chroma_url) == ("default", None, None)
    assert (s.chunk_size, s.chunk_overlap) == (800, 120)
    assert s.ollama_host == "http://127.0.0.1:11434"
    assert s.config_file == default_home / "config.toml"


def test_each_layer_overrides_the_one_below(tmp_path: Path) -> None:
    home = config(
        tmp_path / "h", 'kb = "from-file"\nembedder = "minilm"\nchunk_size = 500\nchunk_overlap = 50\n'
    )
    env = {"ASSISTANT_HOME": str(home), "ASSISTANT_KB": "from-env", "ASSISTANT_CHUNK_SIZE": "600"}

    from_file = load_settings({}, environ={"ASSISTANT_HOME": str(home)})
    assert (from_file.kb, from_file.embedder, from_file.chunk_size, from_file.chunk_overlap) == (
        "from-file",
        "minilm",
        500,
        50,
    )

    from_env = load_settings({}, environ=env)
    assert (from_env.kb, from_env.chunk_size) == ("from-env", 600)
    assert from_env.embedder == "minilm"  # not in the environment: the file still counts

    from_flags = load_settings({"kb": "from-flag", "chunk_size": 700, "embedder": None}, environ=env)
    assert (from_flags.kb, from_flags.chunk_size) == ("from-flag", 700)
    assert from_flags.embedder == "minilm"  # a None flag means "not given"


def test_home_flag_decides_which_config_file_is_read(tmp_path: Path) -> None:
    env_home = config(tmp_path / "env-home", 'kb = "env-home-kb"\n')
    flag_home = config(tmp_path / "flag-home", 'kb = "flag-home-kb"\n')
    environ = {"ASSISTANT_HOME": str(env_home)}

    assert load_settings({}, environ=environ).kb == "env-home-kb"
    s = load_settings({"home": flag_home}, environ=environ)
    assert s.home == flag_home
    assert s.kb == "flag-home-kb"


def test_home_in_config_file_is_not_a_way_round(tmp_path: Path) -> None:
    # The file lives in the home, so it cannot move the home.
    home = config(tmp_path / "h", f'home = "{tmp_path / "elsewhere"}"\n')
    assert load_settings({"home": home}, environ={}).home == home


def test_assistant_table_and_home_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    home = config(tmp_path / "h", '[assistant]\nchroma_url = "http://chroma.local:8000"\n')
    s = load_settings({}, environ={"ASSISTANT_HOME": "~/h"})
    assert s.home == home
    assert s.chroma_url == "http://chroma.local:8000"


def test_empty_values_mean_unset(tmp_path: Path) -> None:
    s = load_settings({}, environ={"ASSISTANT_HOME": str(tmp_path), "ASSISTANT_EMBEDDER": ""})
    assert s.embedder is None
    s = load_settings({"chroma_url": "  "}, environ={"ASSISTANT_HOME": str(tmp_path)})
    assert s.chroma_url is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:11434"),
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),
        ("http://gpu-box:8080/", "http://gpu-box:8080"),
        # https defaults to 443: only a scheme-less or http:// host without a port gets 11434.
        ("https://ollama.example.com", "https://ollama.example.com"),
        ("https://ollama.example.com:8443/", "https://ollama.example.com:8443"),
        ("http://ollama.example.com", "http://ollama.example.com:11434"),
        ("[::1]", "http://[::1]:11434"),
        ("[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_ollama_host_is_normalised(tmp_path: Path, given: str, expected: str) -> None:
    s = load_settings({}, environ={"ASSISTANT_HOME": str(tmp_path), "OLLAMA_HOST": given})
    assert s.ollama_host == expected


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ASSISTANT_CHUNK_SIZE": "big"}, r"ASSISTANT_CHUNK_SIZE: 'big' is not a whole number"),
        ({"ASSISTANT_CHUNK_OVERLAP": "-5"}, r"ASSISTANT_CHUNK_OVERLAP: '-5' is not a whole number from 0"),
        ({"ASSISTANT_CHUNK_SIZE": "100"}, r"chunk_overlap \(120\) must be smaller than chunk_size \(100\)"),
    ],
)
def test_bad_values_name_the_setting(tmp_path: Path, environ: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({}, environ={"ASSISTANT_HOME": str(tmp_path), **environ})


def test_bad_config_file_is_named(tmp_path: Path) -> None:
    home = config(tmp_path / "h", "chunk_size = = 3\n")
    with pytest.raises(SettingsError, match=r"config\.toml: not valid TOML"):
        load_settings({"home": home}, environ={})
    config(home, 'colour = "blue"\n')
    with pytest.raises(
        SettingsError, match=r"unknown setting 'colour'. Known: (\w+, )*chroma_url, chunk_overlap"
    ):
        load_settings({"home": home}, environ={})
    config(home, 'chunk_size = "lots"\n')
    with pytest.raises(SettingsError, match=str(home / "config.toml")):
        load_settings({"home": home}, environ={})


def test_settings_are_immutable() -> None:
    with pytest.raises(AttributeError):
        Settings().kb = "other"  # type: ignore[misc]
