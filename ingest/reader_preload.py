"""Imported once by the server that forks reader processes (ingest.workers, on Linux): the
readers and jieba's dictionary load there, so each reader starts with them in shared memory
instead of loading them again (jieba alone takes a second or two)."""

from vectorstore.text import segment

from . import reading  # noqa: F401  (the readers and the chunker)

segment("预热 warm up")
