"""The knowledge base in other people's tools: an MCP server (`assistant mcp`) and a LangChain
retriever, both over the same `Session.search` the CLI and the chat app use.

`KnowledgeBaseRetriever` is loaded on first use (PEP 562): importing this package pulls in
neither LangChain nor the MCP SDK.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "KnowledgeBaseRetriever": "langchain_retriever",
    "KnowledgeTools": "knowledge_tools",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
