"""What a Chroma server holds, read with a plain client (the `chroma_server` fixture, a real
`chroma run` on loopback, is in conftest.py)."""

from __future__ import annotations

from vectorstore.chroma import server_client


def server_collections(url: str) -> dict[str, int]:
    """What the server itself holds: collection name -> entry count."""
    client = server_client(url)
    return {c.name: c.count() for c in client.list_collections()}
