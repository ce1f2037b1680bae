"""Retrieval: hybrid knowledge-base search and web results merged into one cited set of sources."""

from .kb_retriever import KBRetriever, RetrievalOptions
from .retriever import Retrieval, Retriever
from .sources import Source, assign_labels

__all__ = ["KBRetriever", "Retrieval", "RetrievalOptions", "Retriever", "Source", "assign_labels"]
