"""Imported once by the server that forks reader processes (ingest.workers, on Linux): the
readers, the chunker's splitter and jieba's dictionary load there, so each reader starts with them
in shared memory instead of loading them again (jieba alone takes a second or two)."""

import langchain_text_splitters  # noqa: F401  (the chunker loads it on first split)

from vectorstore.text import segment

from . import reading  # noqa: F401  (the readers and the chunker)

segment("预热 warm up")
