"""Web search engines behind one interface, by the name the `search_engine` setting uses.

Adding an engine is adding a module with a `SearchEngine` subclass (its `configured` reads what
it needs from EngineConfig) and a line in ENGINES; an installed package can add one too, under the
entry-point group PLUGIN_GROUP (see vectorstore.plugins and the README's "Plugins"). A plugin
engine that fails while searching costs the web step only, like any engine that fails: the answer
goes on from the knowledge base.
"""

from __future__ import annotations

from vectorstore.plugins import load_plugin, plugin_names

from .base import EngineConfig, RateLimitedError, SearchEngine, SearchResult, WebSearchError
from .duckduckgo import DuckDuckGoEngine
from .searxng import SearxngEngine

ENGINES: dict[str, type[SearchEngine]] = {
    "duckduckgo": DuckDuckGoEngine,
    "searxng": SearxngEngine,
}
#: Other names people use for an engine.
ALIASES = {"ddg": "duckduckgo", "ddgs": "duckduckgo"}
#: Where installed packages declare engines: name = "module:SearchEngineSubclass".
PLUGIN_GROUP = "r1_assistant.search_engines"

__all__ = [
    "ALIASES",
    "ENGINES",
    "PLUGIN_GROUP",
    "EngineConfig",
    "RateLimitedError",
    "SearchEngine",
    "SearchResult",
    "WebSearchError",
    "engine_names",
    "make_engine",
]


def engine_names() -> list[str]:
    """The built-in engines' names, then the installed plugins'."""
    return [*ENGINES, *plugin_names(PLUGIN_GROUP, besides=[*ENGINES, *ALIASES])]


def make_engine(
    name: str,
    *,
    searxng_url: str | None = None,
    region: str = "wt-wt",
    safesearch: str = "moderate",
) -> SearchEngine:
    """The engine called `name`, set up with the given settings."""
    config = EngineConfig(searxng_url=searxng_url, region=region, safesearch=safesearch)
    engine = ENGINES.get(ALIASES.get(name, name))
    if engine is not None:
        return engine.configured(config)
    plugin = load_plugin(
        PLUGIN_GROUP,
        name,
        kind="search engine",
        accepts=lambda value: isinstance(value, type) and issubclass(value, SearchEngine),
        error=WebSearchError,
    )
    if plugin is None:
        raise WebSearchError(
            f"unknown search engine '{name}' (ASSISTANT_SEARCH_ENGINE): use {' or '.join(engine_names())}"
        )
    return _PluginEngine(plugin.value.configured(config), plugin.package)


class _PluginEngine(SearchEngine):
    """A plugin's engine, whose unexpected failures become WebSearchError naming its package."""

    def __init__(self, engine: SearchEngine, package: str) -> None:
        self.engine, self.package, self.name = engine, package, engine.name

    @classmethod
    def configured(cls, config: EngineConfig) -> SearchEngine:
        raise NotImplementedError("made by make_engine")

    def search(self, query: str, max_results: int, timeout: float) -> list[SearchResult]:
        try:
            return self.engine.search(query, max_results, timeout)
        except WebSearchError:
            raise
        except Exception as exc:  # a plugin's bug costs this search only
            raise WebSearchError(
                f"the search engine '{self.name}' from package {self.package} failed "
                f"({type(exc).__name__}: {exc})"
            ) from exc
