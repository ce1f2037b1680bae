"""The writers' lease of a shared base: one writer at a time, across machines.

Chroma has no compare-and-swap, but creating a collection whose name exists fails on the server,
atomically. Holding generation G means the collection `lease.G` exists, it is ours, and no
`lease.(G+1)` exists. To take the lease, a writer creates `lease.(G+1)` when `lease.G` is released
or stale: of two machines trying at once, one succeeds. The holder renews the expiry from a
background thread and checks before each write that nobody has taken over, so a writer that was
suspended past its expiry stops instead of interleaving. Expiry times are the holder's clock:
clocks of the machines sharing a base should agree to well within `LEASE_SECONDS`.

A lease's metadata comes from the server and is checked like any entry: a lease whose holder,
times or flags are malformed, or whose expiry lies further ahead than a renewal can put it, is
stale (it would otherwise lock the base for good), and so is a lease collection that another
client made. `break_lease` ends a stuck one on the user's word (`assistant kb unlock`).
"""

from __future__ import annotations

import getpass
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...errors import AssistantError, KnowledgeBaseBusyError, LeaseLostError
from .entries import shown
from .names import Layout
from .record import all_collections, get_collection, record_function, server_failed

#: A writer that has not renewed its lease for this long is presumed dead.
LEASE_SECONDS = 120.0
#: A writer re-checks that it still holds the lease before a write at most this often.
_CHECK_EVERY = 5.0
#: How far the clocks of two machines sharing a base may disagree.
CLOCK_SKEW = 30.0
_HOLDER_CHARS = 200


def holder_name() -> str:
    """Who holds a lease, as people will read it: user@host, process id."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (a container): the host says enough
        user = "?"
    return f"{user}@{socket.gethostname()} (pid {os.getpid()})"


@dataclass(frozen=True)
class LeaseState:
    """Generation `generation` of a lease as its metadata describes it, checked."""

    generation: int
    #: The holder as it may be shown (control and bidirectional characters removed).
    holder: str
    since: float | None
    expires: float | None
    released: bool
    #: Why the metadata is not a valid lease's (None: it is one).
    problem: str | None = None

    def live(self, now: float) -> bool:
        """Whether it still excludes other writers: valid, not released, not expired, and not
        expiring further ahead than a renewal can put it."""
        if self.problem or self.released or self.expires is None:
            return False
        return now < self.expires <= now + LEASE_SECONDS + CLOCK_SKEW

    def since_text(self) -> str:
        if self.since is None:
            return "an unknown time"
        return datetime.fromtimestamp(self.since).strftime("%Y-%m-%d %H:%M:%S")


def read_lease(generation: int, metadata: dict[str, Any] | None, now: float) -> LeaseState:
    meta = dict(metadata or {})
    holder, since, expires = meta.get("holder"), meta.get("since"), meta.get("expires")
    released = meta.get("released", False)
    problem = None
    if not isinstance(holder, str) or not holder.strip() or len(holder) > _HOLDER_CHARS:
        problem, holder = "its holder is not a name", "an unknown writer"
    elif not _time(since) or since > now + CLOCK_SKEW:
        problem, since = "its start time is not a time", None
    elif not _time(expires):
        problem, expires = "its expiry is not a time", None
    elif not isinstance(released, bool):
        problem = "its released flag is not true or false"
    return LeaseState(
        generation,
        shown(holder, 120) or "an unknown writer",
        since if _time(since) else None,
        expires if _time(expires) else None,
        released is True,
        problem,
    )


def _time(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and 0 <= value < 1e11  # type: ignore[operator]


class Lease:
    """Generation `generation` of a base's writer lease, held by this process until `release`."""

    def __init__(
        self, client, layout: Layout, url: str, generation: int, collection, took_over: bool
    ) -> None:
        self.client, self.layout, self.url = client, layout, url
        self.name = layout.name
        self.generation, self.collection = generation, collection
        #: True when the previous holder never released the lease (it died or hung).
        self.took_over = took_over
        self.since = time.time()
        self._lost: str | None = None
        self._checked = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease-{self.name}", daemon=True)
        self._thread.start()

    @classmethod
    def acquire(cls, client, layout: Layout, url: str, *, force: bool = False) -> Lease:
        """Take the lease, or raise KnowledgeBaseBusyError naming its holder and since when.
        `force` takes it even from a live holder (who stops at its next write)."""
        states = lease_states(client, layout)
        took_over, generation = False, 1
        if states:
            current = states[-1]
            if current.live(time.time()) and not force:
                raise _busy(layout.name, current)
            took_over = not current.released
            generation = current.generation + 1
        try:
            collection = client.create_collection(
                layout.lease(generation),
                embedding_function=record_function(),
                metadata=_lease_metadata(time.time()),
            )
        except Exception as exc:
            rival = get_collection(client, layout.lease(generation), url)
            if rival is None:
                raise server_failed(url, exc) from exc
            raise _busy(layout.name, read_lease(generation, rival.metadata, time.time())) from None
        for old in states:
            _drop(client, layout.lease(old.generation))
        return cls(client, layout, url, generation, collection, took_over)

    def check(self) -> None:
        """Raise LeaseLostError if another writer took the lease over (throttled)."""
        if self._lost:
            raise LeaseLostError(self._lost)
        if time.monotonic() - self._checked < _CHECK_EVERY:
            return
        rival = get_collection(self.client, self.layout.lease(self.generation + 1), self.url)
        if rival is not None:
            holder = read_lease(self.generation + 1, rival.metadata, time.time()).holder
            self._lost = (
                f"this process lost the write lease of '{self.name}' to {holder} (it was not renewed "
                f"for {LEASE_SECONDS:.0f} s, or someone broke it with `assistant kb unlock`); its "
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
                if get_collection(self.client, self.layout.lease(self.generation + 1), self.url) is not None:
                    self._lost = self._lost or f"another writer took over the lease of '{self.name}'"
                    return
                self.collection.modify(metadata=_lease_metadata(self.since))
            except Exception:  # a network blip: the next renewal or the expiry decides
                continue


def lease_states(client, layout: Layout) -> list[LeaseState]:
    """Every lease generation of the base on the server, oldest first, checked."""
    now = time.time()
    found = []
    for collection in all_collections(client):
        generation = layout.lease_generation(collection.name)
        if generation is None or (layout.format == 1 and "kb" in (collection.metadata or {})):
            continue  # (a format-1 name can be another base's vectors, which carry "kb")
        found.append(read_lease(generation, collection.metadata, now))
    return sorted(found, key=lambda state: state.generation)


def current_holder(client, layout: Layout) -> LeaseState | None:
    """The lease that excludes writers now (None: none does)."""
    states = lease_states(client, layout)
    return states[-1] if states and states[-1].live(time.time()) else None


def _lease_metadata(since: float) -> dict[str, Any]:
    return {
        "holder": holder_name(),
        "since": since,
        "expires": time.time() + LEASE_SECONDS,
        "released": False,
        "token": uuid.uuid4().hex,
    }


def _busy(name: str, state: LeaseState) -> AssistantError:
    return KnowledgeBaseBusyError(
        f"knowledge base '{name}' is being written by {state.holder} since {state.since_text()}; "
        f"wait for that ingest to finish (if that writer died, its lease expires "
        f"{LEASE_SECONDS:.0f} s after its last renewal, or `assistant kb unlock {name}` breaks it now)"
    )


def _drop(client, collection: str) -> None:
    try:
        client.delete_collection(collection)
    except Exception:  # already gone (another machine cleaned up first)
        pass


def drop_base(client, layout: Layout, collections: Iterable[str]) -> None:
    """Delete a shared base's collections, its record last but one and its leases last."""
    for collection in collections:
        _drop(client, collection)
    _drop(client, layout.record)
    for state in lease_states(client, layout):
        _drop(client, layout.lease(state.generation))
