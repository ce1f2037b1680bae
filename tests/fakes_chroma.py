"""A real Chroma server on loopback (`chroma_process`; the `chroma_server` fixture in conftest.py
runs one per module), and what it holds read and written with a plain client, as anyone who can
reach the server could: the tests of shared bases that must not trust the server."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import pytest
from chromadb.config import Settings

from vectorstore.chroma import server_client
from vectorstore.storage.shared.entries import file_id

from fakes_loopback import free_port
from fakes_processes import served_process


@contextmanager
def chroma_process(folder: Path, port: int | None = None) -> Iterator[str]:
    """A real `chroma run` on loopback, its data and log under `folder`, until the block ends;
    yields its URL. `port` None: a free one."""
    chroma = shutil.which("chroma") or shutil.which("chroma", path=str(Path(sys.executable).parent))
    if chroma is None:
        pytest.fail("the `chroma` command is not installed (it comes with the chromadb package)")
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with (
        (folder / "server.log").open("w") as log,
        served_process(
            [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(folder / "db")],
            f"{url}/api/v2/heartbeat",
            timeout=60,
            name=f"chroma run (its log: {folder / 'server.log'})",
            log=log,
        ),
    ):
        yield url


# --- What the server holds ----------------------------------------------------------------------


def server_collections(url: str) -> dict[str, int]:
    """What the server itself holds: collection name -> entry count."""
    client = server_client(url)
    return {c.name: c.count() for c in client.list_collections()}


def plain_client(url: str) -> chromadb.ClientAPI:
    """A plain `chromadb.HttpClient`, nothing of ours."""
    parsed = urlparse(url)
    return chromadb.HttpClient(
        host=parsed.hostname, port=parsed.port, settings=Settings(anonymized_telemetry=False)
    )


def record_of(url: str, name: str):
    """Base `name`'s record collection, opened by a plain client."""
    return plain_client(url).get_collection(f"kb.{name}.record")


def head_of(record) -> int:
    return int(record.get(ids=["@head"], include=["metadatas"])["metadatas"][0]["seq"])


def set_head(record, seq: Any) -> None:
    record.upsert(ids=["@head"], metadatas=[{"type": "head", "seq": seq}], embeddings=[[0.0]], documents=[""])


def stamp(record, entries: list[tuple[str, dict[str, Any], str]]) -> None:
    """Write `entries` (id, metadata, text) as a writer would: each stamped with the next
    sequence number, then the head advanced past them, so every reader fetches them."""
    seq = head_of(record)
    for entry_id, meta, text in entries:
        seq += 1
        record.upsert(
            ids=[entry_id], metadatas=[{**meta, "seq": seq}], documents=[text], embeddings=[[float(seq)]]
        )
    set_head(record, seq)


def file_meta(path: str, chunk_ids: list[str] | str, **changes: Any) -> tuple[str, dict[str, Any], str]:
    """A file entry as the assistant writes it, with `changes` (None: the field left out)."""
    meta = {
        "type": "file",
        "path": path,
        "content_hash": "h-" + path,
        "size": 10,
        "title": path,
        "kind": "markdown",
        "chunk_ids": chunk_ids if isinstance(chunk_ids, str) else json.dumps(chunk_ids),
        "ingested_at": 1_700_000_000.0,
        "deleted": False,
    }
    meta.update(changes)
    return file_id(path), {k: v for k, v in meta.items() if v is not None}, ""


def chunk_meta(chunk_id: str, path: str, text: str, **changes: Any) -> tuple[str, dict[str, Any], str]:
    """A chunk entry as the assistant writes it, with `changes`."""
    meta = {
        "type": "chunk",
        "path": path,
        "meta": json.dumps({"source": path, "title": path}),
        "embed_hash": "e-" + chunk_id,
        "tokens": text.lower(),
        "tokenizer": "2",
        "embedded": True,
    }
    meta.update(changes)
    return "c:" + chunk_id, {k: v for k, v in meta.items() if v is not None}, text
