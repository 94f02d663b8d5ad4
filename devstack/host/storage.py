"""Queue clients and the runtime's message encoding (host.json `messageEncoding`).

Clients send and receive raw text; the host encodes and decodes itself so a body that
is not valid base64 fails its invocation (and is retried, then poisoned) as in Azure,
instead of failing the whole receive call.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import threading
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.queue import LinearRetry, QueueClient, QueueServiceClient

POISON_SUFFIX = "-poison"
T = TypeVar("T")


class MessageDecodeError(ValueError):
    """A queue message is not valid for the configured messageEncoding."""


def encode(body: str | bytes, encoding: str) -> str:
    """Message text for a body, as an output binding writes it."""
    if encoding == "base64":
        raw = body.encode() if isinstance(body, str) else body
        return base64.b64encode(raw).decode("ascii")
    return body.decode() if isinstance(body, bytes) else body


def decode(text: str, encoding: str) -> bytes:
    """Body bytes of a message's text, as the trigger reads it."""
    if encoding != "base64":
        return text.encode()
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MessageDecodeError(f"message is not valid base64 ({exc}); messageEncoding is base64") from None


class QueueClients:
    """Thread-safe cache of QueueClients per (connection, queue), with short retries.

    The SDK's default retry policy backs off for minutes; the listeners do their own
    back-off, so a stopped emulator must surface quickly. Blocking SDK calls run on a
    private pool (`run`), so storage I/O never waits behind function invocations.
    """

    def __init__(self) -> None:
        self.io = ThreadPoolExecutor(max_workers=32, thread_name_prefix="storage")
        self._lock = threading.Lock()
        self._services: dict[str, QueueServiceClient] = {}
        self._created: set[tuple[str, str]] = set()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking call on the storage pool."""
        return await asyncio.get_running_loop().run_in_executor(self.io, functools.partial(fn, *args, **kwargs))

    def get(self, connection: str, queue: str) -> QueueClient:
        with self._lock:
            service = self._services.get(connection)
            if service is None:
                service = QueueServiceClient.from_connection_string(
                    connection,
                    retry_policy=LinearRetry(backoff=0.5, random_jitter_range=0, retry_total=2),
                    connection_timeout=5,
                    read_timeout=30,
                    # no proxy configured: spare requests its environment scan on every call
                    use_env_settings=bool(urllib.request.getproxies()),
                )
                self._services[connection] = service
        return service.get_queue_client(queue)

    def send(self, connection: str, queue: str, text: str) -> None:
        """Send, creating the queue the first time it is missing (output bindings do)."""
        client = self.get(connection, queue)
        try:
            client.send_message(text)
        except ResourceNotFoundError:
            self.ensure(connection, queue)
            client.send_message(text)

    def ensure(self, connection: str, queue: str) -> None:
        key = (connection, queue)
        if key in self._created:
            return
        try:
            self.get(connection, queue).create_queue()
        except ResourceExistsError:
            pass
        self._created.add(key)

    def close(self) -> None:
        with self._lock:
            for service in self._services.values():
                service.close()
            self._services.clear()
        self.io.shutdown(wait=False, cancel_futures=True)
