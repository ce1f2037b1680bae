"""Plugins by installation: each registry (chat back-ends, search engines, embedders, bench
graders) also offers what installed packages declare in its entry-point group.

A package declares its plugins in its pyproject.toml, one name per line:

    [project.entry-points."r1_assistant.search_engines"]
    mysearch = "my_package.search:MySearchEngine"

A plugin is imported only when its name is asked for (a setting, a spec, a suite's task), so
installed plugins cost nothing until used, and a broken one costs only itself: asking for it
raises the registry's own error, which names the package and what went wrong. Built-in names come
first; a plugin cannot replace one. This module lives in the lowest layer because the embedders'
registry is here; the other registries are in `assistant`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import AssistantError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint


def _entry_points(group: str) -> list[EntryPoint]:
    # Imported here: the chat app imports the registries before its first screen, and reads
    # installed packages' metadata only when a name is not built in.
    from importlib.metadata import entry_points

    return list(entry_points(group=group))


@dataclass(frozen=True)
class Plugin:
    name: str
    #: The package that declares it, as people know it: "r1-assistant-demo 0.1".
    package: str
    value: Any


def plugin_names(group: str, *, besides: object = ()) -> list[str]:
    """The names installed packages declare in `group`, except those in `besides` (built-in
    names win); nothing is imported."""
    return sorted({ep.name for ep in _entry_points(group)} - set(besides))


def load_plugin(
    group: str,
    name: str,
    *,
    kind: str,
    accepts: Callable[[Any], bool],
    error: type[AssistantError],
) -> Plugin | None:
    """The plugin called `name` in `group`, imported now; None when no package declares it.

    `error` is raised, naming the package, when the plugin cannot be imported or what it names is
    not a `kind` (`accepts` says which objects are).
    """
    found = [ep for ep in _entry_points(group) if ep.name == name]
    if not found:
        return None
    point = found[0]
    package = _package(point)
    try:
        value = point.load()
    except Exception as exc:  # anything a plugin's import can raise: it costs this plugin only
        raise error(
            f"the {kind} '{name}' from package {package} could not be loaded "
            f"({type(exc).__name__}: {_first_line(exc)}); fix or uninstall that package"
        ) from exc
    if not accepts(value):
        raise error(
            f"the {kind} '{name}' from package {package} is not a {kind} ({point.value}); "
            "fix or uninstall that package"
        )
    return Plugin(name, package, value)


def _package(point: EntryPoint) -> str:
    dist = point.dist
    if dist is None:
        return f"'{point.value}'"
    return f"{dist.name} {dist.version}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "no message"
