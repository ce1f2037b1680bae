"""Bench suites: data files (YAML or JSON) of tasks a user can copy and extend."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vectorstore.errors import AssistantError

from .graders import GRADERS, grader_names

BUILTIN = Path(__file__).parent / "suites"


class SuiteError(AssistantError, ValueError):
    pass


class UnknownSuiteError(SuiteError):
    """No built-in suite has the name given, and no file has it as its path."""


@dataclass(frozen=True)
class Task:
    id: str
    prompt: str
    grader: str
    expected: dict[str, Any] = field(default_factory=dict)
    web: bool = False
    kb: bool = False
    think: bool = True


@dataclass(frozen=True)
class Suite:
    name: str
    tasks: tuple[Task, ...]
    path: Path


def builtin_suites() -> list[str]:
    return sorted(p.stem for p in BUILTIN.glob("*.yaml"))


def load_suite(name_or_path: str) -> Suite:
    """A built-in suite by name (`builtin`, `docs-kb`) or a YAML/JSON file by path."""
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        path = BUILTIN / f"{name_or_path}.yaml"
    if not path.is_file():
        raise UnknownSuiteError(
            f"no suite '{name_or_path}': give a YAML or JSON file, or one of {', '.join(builtin_suites())}"
        )
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SuiteError(f"{path}: cannot read the suite ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), list):
        raise SuiteError(f"{path}: a suite is a mapping with a `tasks` list")
    tasks = []
    for number, raw in enumerate(data["tasks"], start=1):
        if not isinstance(raw, dict) or not raw.get("prompt") or not raw.get("grader"):
            raise SuiteError(f"{path}: task {number} needs at least `prompt` and `grader`")
        if raw["grader"] not in GRADERS and raw["grader"] not in (known := grader_names()):
            raise SuiteError(
                f"{path}: task {number} has unknown grader '{raw['grader']}' (known: {', '.join(known)})"
            )
        if not isinstance(raw.get("expected") or {}, dict):
            raise SuiteError(
                f'{path}: task {number}\'s `expected` must be a mapping, e.g. expected: {{any_of: ["2021"]}}'
            )
        tasks.append(
            Task(
                id=str(raw.get("id") or f"task-{number}"),
                prompt=str(raw["prompt"]),
                grader=raw["grader"],
                expected=dict(raw.get("expected") or {}),
                web=bool(raw.get("web", False)),
                kb=bool(raw.get("kb", False)),
                think=bool(raw.get("think", True)),
            )
        )
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise SuiteError(f"{path}: task ids must be unique")
    return Suite(str(data.get("name") or path.stem), tuple(tasks), path)
