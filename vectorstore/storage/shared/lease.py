"""The writers' lease of a shared base: one writer at a time, across machines.

Chroma has no compare-and-swap, but creating a collection whose name exists fails on the server,
atomically. Holding generation G means the collection `lease-G` exists, it is ours, and no
`lease-(G+1)` exists. To take the lease, a writer creates `lease-(G+1)` when `lease-G` is released
or expired: of two machines trying at once, one succeeds. The holder renews the expiry from a
background thread and checks before each write that nobody has taken over, so a writer that was
suspended past its expiry stops instead of interleaving. Expiry times are the holder's clock:
clocks of the machines sharing a base should agree to well within `LEASE_SECONDS`.
"""

from __future__ import annotations

import getpass
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ...errors import AssistantError, ChromaConnectionError, KnowledgeBaseBusyError, LeaseLostError
from .record import _collection_names, _record_function, record_name

#: A writer that has not renewed its lease for this long is presumed dead.
LEASE_SECONDS = 120.0
#: A writer re-checks that it still holds the lease before a write at most this often.
_CHECK_EVERY = 5.0


def lease_name(name: str, generation: int) -> str:
    return f"kb-{name}-lease-{generation}-v1"


def holder_name() -> str:
    """Who holds a lease, as people will read it: user@host, process id."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (a container): the host says enough
        user = "?"
    return f"{user}@{socket.gethostname()} (pid {os.getpid()})"


class Lease:
    """Generation `generation` of a base's writer lease, held by this process until `release`."""

    def __init__(self, client, name: str, url: str, generation: int, collection, took_over: bool) -> None:
        self.client, self.name, self.url = client, name, url
        self.generation, self.collection = generation, collection
        #: True when the previous holder never released the lease (it died or hung).
        self.took_over = took_over
        self.since = time.time()
        self._lost: str | None = None
        self._checked = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease-{name}", daemon=True)
        self._thread.start()

    @classmethod
    def acquire(cls, client, name: str, url: str) -> Lease:
        """Take the lease, or raise KnowledgeBaseBusyError naming its holder and since when."""
        generations = _lease_generations(client, name)
        took_over = False
        generation = 1
        if generations:
            current = max(generations)
            meta = _lease_meta(client, name, current)
            if meta is not None:
                if not meta.get("released") and float(meta.get("expires", 0)) > time.time():
                    raise _busy(name, meta)
                took_over = not meta.get("released")
            generation = current + 1
        metadata = _lease_metadata(time.time())
        try:
            collection = client.create_collection(
                lease_name(name, generation),
                embedding_function=_record_function(),
                metadata=metadata,
            )
        except Exception as exc:
            meta = _lease_meta(client, name, generation)
            if meta is None:
                raise ChromaConnectionError(f"Chroma server at {url} failed: {exc}") from exc
            raise _busy(name, meta) from None
        for old in generations:
            _drop(client, lease_name(name, old))
        return cls(client, name, url, generation, collection, took_over)

    def check(self) -> None:
        """Raise LeaseLostError if another writer took the lease over (throttled)."""
        if self._lost:
            raise LeaseLostError(self._lost)
        if time.monotonic() - self._checked < _CHECK_EVERY:
            return
        meta = _lease_meta(self.client, self.name, self.generation + 1)
        if meta is not None:
            self._lost = (
                f"this process lost the write lease of '{self.name}' to {meta.get('holder')} (it "
                f"was not renewed for {LEASE_SECONDS:.0f} s: was this machine asleep?); its "
                "writes were stopped, and the new holder repairs the base"
            )
            raise LeaseLostError(self._lost)
        self._checked = time.monotonic()

    def stop(self) -> None:
        """Stop renewing (the lease expires on its own, or went with its base)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def release(self) -> None:
        self.stop()
        if self._lost:
            return
        try:
            self.collection.modify(metadata={**_lease_metadata(self.since), "released": True, "expires": 0.0})
        except Exception:  # the server went away: the lease expires on its own
            pass

    def _renew_loop(self) -> None:
        while not self._stop.wait(LEASE_SECONDS / 6):
            try:
                if _lease_meta(self.client, self.name, self.generation + 1) is not None:
                    self._lost = self._lost or f"another writer took over the lease of '{self.name}'"
                    return
                self.collection.modify(metadata=_lease_metadata(self.since))
            except Exception:  # a network blip: the next renewal or the expiry decides
                continue


def _lease_metadata(since: float) -> dict[str, Any]:
    return {
        "holder": holder_name(),
        "since": since,
        "expires": time.time() + LEASE_SECONDS,
        "released": False,
        "token": uuid.uuid4().hex,
    }


def _lease_generations(client, name: str) -> list[int]:
    prefix, suffix = f"kb-{name}-lease-", "-v1"
    found: list[int] = []
    for collection in _collection_names(client):
        middle = collection[len(prefix) : -len(suffix)]
        if collection.startswith(prefix) and collection.endswith(suffix) and middle.isdigit():
            found.append(int(middle))
    return found


def _lease_meta(client, name: str, generation: int) -> dict[str, Any] | None:
    from chromadb.errors import NotFoundError

    try:
        collection = client.get_collection(
            lease_name(name, generation), embedding_function=_record_function()
        )
    except NotFoundError:
        return None
    return dict(collection.metadata or {})


def _busy(name: str, meta: dict[str, Any]) -> AssistantError:
    since = datetime.fromtimestamp(float(meta.get("since", 0))).strftime("%Y-%m-%d %H:%M:%S")
    return KnowledgeBaseBusyError(
        f"knowledge base '{name}' is being written by {meta.get('holder', 'another machine')} "
        f"since {since}; wait for that ingest to finish (if that writer died, its lease expires "
        f"{LEASE_SECONDS:.0f} s after its last renewal)"
    )


def _drop(client, collection: str) -> None:
    try:
        client.delete_collection(collection)
    except Exception:  # already gone (another machine cleaned up first)
        pass


def remove_collections(client, name: str, collections: Iterable[str]) -> None:
    """Delete a shared base's collections, its record last but one and its leases last."""
    for collection in collections:
        _drop(client, collection)
    _drop(client, record_name(name))
    for generation in _lease_generations(client, name):
        _drop(client, lease_name(name, generation))
