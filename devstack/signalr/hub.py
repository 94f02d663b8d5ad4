"""In-memory state of the service: negotiated and connected clients, users and groups.

All mutation happens on the server's event loop; a lock makes the read-only
snapshots (`connections`) safe to take from another thread (tests).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

HUB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
"""Hub names Azure accepts (letter first, then letters, digits, underscores).

Hubs are matched case-insensitively; group names are 1-1024 characters."""

PENDING_TTL = 60.0
"""Seconds a negotiated connection token stays claimable."""

QUEUE_LIMIT = 10_000
"""Records buffered per connection before it is dropped as too slow."""


def hub_key(hub: str) -> str:
    return hub.lower()


def valid_hub(hub: str | None) -> bool:
    return bool(hub) and HUB_NAME.match(hub or "") is not None


def valid_group(group: str | None) -> bool:
    return bool(group) and len(group or "") <= 1024


@dataclass
class Pending:
    """A negotiated connection waiting for its WebSocket."""

    connection_id: str
    hub: str
    user_id: str | None
    created: float = field(default_factory=time.monotonic)


@dataclass(eq=False)
class Client:
    """A connected client; records to send go through `outbox` (None ends the writer)."""

    connection_id: str
    hub: str
    user_id: str | None
    outbox: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    groups: set[str] = field(default_factory=set)
    closing: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, record: str) -> None:
        """Queue a record; a client too slow to drain its queue is disconnected."""
        if self.closing:
            return
        try:
            self.outbox.put_nowait(record)
        except asyncio.QueueFull:
            self.end()

    def end(self, final_record: str | None = None) -> None:
        """Send `final_record` (e.g. a close message), then close the socket."""
        if self.closing:
            return
        self.closing = True
        while True:  # make room: a closing client needs no backlog
            try:
                if final_record is not None:
                    self.outbox.put_nowait(final_record)
                self.outbox.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.outbox.get_nowait()


class Registry:
    """Connections per hub, group membership (per connection and per user)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, Pending] = {}
        self._clients: dict[str, dict[str, Client]] = {}
        self._user_groups: dict[tuple[str, str], set[str]] = {}

    # negotiate and connect -------------------------------------------------
    def negotiate(self, hub: str, user_id: str | None, same: bool = False) -> tuple[str, str]:
        """Reserve a connection: (connectionId, connectionToken); `same`: one value (v0)."""
        now = time.monotonic()
        connection_id = secrets.token_urlsafe(16)
        token = connection_id if same else secrets.token_urlsafe(24)
        with self._lock:
            for stale in [t for t, p in self._pending.items() if now - p.created > PENDING_TTL]:
                del self._pending[stale]
            self._pending[token] = Pending(connection_id, hub, user_id)
        return connection_id, token

    def claim(self, token: str, hub: str) -> Pending | None:
        """Use a connection token once; None if unknown, expired or for another hub."""
        with self._lock:
            pending = self._pending.pop(token, None)
        if pending is None or hub_key(pending.hub) != hub_key(hub):
            return None
        if time.monotonic() - pending.created > PENDING_TTL:
            return None
        return pending

    def add(self, client: Client) -> None:
        with self._lock:
            self._clients.setdefault(hub_key(client.hub), {})[client.connection_id] = client

    def remove(self, client: Client) -> None:
        with self._lock:
            hub = self._clients.get(hub_key(client.hub), {})
            if hub.get(client.connection_id) is client:
                del hub[client.connection_id]

    # lookups ---------------------------------------------------------------
    def _hub(self, hub: str) -> list[Client]:
        with self._lock:
            return list(self._clients.get(hub_key(hub), {}).values())

    def get(self, hub: str, connection_id: str) -> Client | None:
        with self._lock:
            return self._clients.get(hub_key(hub), {}).get(connection_id)

    def in_group(self, client: Client, group: str) -> bool:
        users = self._user_groups.get((hub_key(client.hub), group), set())
        return group in client.groups or (client.user_id is not None and client.user_id in users)

    def select(self, hub: str, *, user_id: str | None = None, group: str | None = None,
               connection_id: str | None = None, excluded: Iterable[str] = ()) -> list[Client]:
        """Clients a message addressed this way reaches."""
        skip = set(excluded)
        clients = [c for c in self._hub(hub) if c.connection_id not in skip and not c.closing]
        if connection_id is not None:
            clients = [c for c in clients if c.connection_id == connection_id]
        if user_id is not None:
            clients = [c for c in clients if c.user_id == user_id]
        if group is not None:
            clients = [c for c in clients if self.in_group(c, group)]
        return clients

    def send(self, hub: str, record: str, **address: Any) -> int:
        """Queue `record` for every addressed client; returns how many."""
        clients = self.select(hub, **address)
        for client in clients:
            client.push(record)
        return len(clients)

    # groups ----------------------------------------------------------------
    def join(self, hub: str, group: str, connection_id: str, join: bool = True) -> bool:
        """Add/remove a connection to/from a group; False if the connection is unknown."""
        client = self.get(hub, connection_id)
        if client is None:
            return False
        with self._lock:
            (client.groups.add if join else client.groups.discard)(group)
        return True

    def join_user(self, hub: str, group: str, user_id: str, join: bool = True) -> None:
        """Add/remove a user (all its connections, present and future) to/from a group."""
        with self._lock:
            users = self._user_groups.setdefault((hub_key(hub), group), set())
            (users.add if join else users.discard)(user_id)

    def leave_all(self, hub: str, user_id: str) -> None:
        """Remove a user, and its connections, from every group."""
        with self._lock:
            for (h, _), users in self._user_groups.items():
                if h == hub_key(hub):
                    users.discard(user_id)
        clients = self.select(hub, user_id=user_id)
        with self._lock:
            for client in clients:
                client.groups.clear()

    def user_in_group(self, hub: str, group: str, user_id: str) -> bool:
        with self._lock:
            return user_id in self._user_groups.get((hub_key(hub), group), set())

    # introspection and shutdown ---------------------------------------------
    def connections(self, hub: str | None = None) -> list[dict[str, Any]]:
        """Snapshot of connected clients (all hubs, or one), for tests and debugging."""
        with self._lock:
            hubs = [hub_key(hub)] if hub is not None else list(self._clients)
            clients = [c for h in hubs for c in self._clients.get(h, {}).values()]
        return [{"hub": c.hub, "connectionId": c.connection_id, "userId": c.user_id,
                 "groups": sorted(c.groups)} for c in clients]

    def all_clients(self) -> list[Client]:
        with self._lock:
            return [c for hub in self._clients.values() for c in hub.values()]

    async def close_all(self, final_record: str | None, timeout: float = 5.0) -> None:
        """End every connection with `final_record` and wait for their handlers."""
        clients = self.all_clients()
        for client in clients:
            client.end(final_record)
        if clients:
            waiters = [asyncio.create_task(c.done.wait()) for c in clients]
            _, pending = await asyncio.wait(waiters, timeout=timeout)
            for waiter in pending:
                waiter.cancel()
