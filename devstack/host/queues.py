"""queueTrigger: the WebJobs queue listener's semantics on Azurite (or any Storage queue).

- Polls `batchSize` messages, hidden for a lease that is renewed at half-time while the
  function runs; fetches again while fewer than `newBatchThreshold` invocations are in
  flight (so at most batchSize + newBatchThreshold run at once).
- Waits 100 ms after a non-empty poll; when idle backs off exponentially (randomized
  x0.8..1.2) from ~200 ms up to `maxPollingInterval`. A missing queue counts as empty.
- Success deletes the message. Failure makes it visible again after `visibilityTimeout`;
  the failure whose dequeue count reaches `maxDequeueCount` copies the original message
  text to `<queue>-poison` and deletes it. A message seen with a dequeue count already
  above the maximum (its host died mid-invocation) is poisoned without running.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.functions import meta
from azure.functions.queue import QueueMessageInConverter
from azure.storage.queue import QueueMessage as StorageMessage

from .config import QueueOptions
from .index import FunctionSpec
from .invoke import Invoker
from .storage import POISON_SUFFIX, MessageDecodeError, QueueClients, decode

log = logging.getLogger("devstack.host")
MIN_INTERVAL = 0.1


@dataclass
class _Lease:
    """Where the message is now: renewing its visibility changes the pop receipt."""

    id: str
    pop_receipt: str
    released: asyncio.Event = field(default_factory=asyncio.Event)


def to_function_message(message: StorageMessage, body: bytes) -> Any:
    """A real `azure.functions.QueueMessage`, built by the library's own converter."""

    def text(value: str | None) -> meta.Datum:
        return meta.Datum(value, "string")

    def when(value: datetime | None) -> meta.Datum:
        return meta.Datum(value.isoformat() if value else None, "string")

    metadata = {
        "Id": text(message.id),
        "DequeueCount": meta.Datum(message.dequeue_count, "int"),
        "ExpirationTime": when(message.expires_on),
        "InsertionTime": when(message.inserted_on),
        "NextVisibleTime": when(message.next_visible_on),
        "PopReceipt": text(message.pop_receipt),
    }
    return QueueMessageInConverter.decode(meta.Datum(body, "bytes"), trigger_metadata=metadata)


class QueueListener:
    """Polls one queue for one function until stopped."""

    def __init__(
        self,
        spec: FunctionSpec,
        connection: str,
        clients: QueueClients,
        options: QueueOptions,
        invoker: Invoker,
        lease: float = 600.0,
    ) -> None:
        self.spec = spec
        self.queue = str(spec.trigger.get("queueName"))
        self.connection = connection
        self.clients = clients
        self.options = options
        self.invoker = invoker
        self.lease = max(1, int(lease))
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._outage = False

    async def run(self) -> None:
        idle_polls = 0
        while not self._stop.is_set():
            if len(self._tasks) > self.options.threshold:
                stopping = asyncio.ensure_future(self._stop.wait())
                await asyncio.wait([*self._tasks, stopping], return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                continue
            messages = await self._receive()
            for message in messages:
                task = asyncio.create_task(self._process(message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            idle_polls = 0 if messages else idle_polls + 1
            await self._sleep(self._delay(idle_polls))

    def _delay(self, idle_polls: int) -> float:
        if idle_polls == 0:
            return MIN_INTERVAL
        delay = MIN_INTERVAL * 2 ** min(idle_polls, 30) * random.uniform(0.8, 1.2)
        return min(self.options.max_polling_interval, delay)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            pass

    async def _receive(self) -> list[StorageMessage]:
        client = self.clients.get(self.connection, self.queue)
        try:
            messages = await self.clients.run(
                lambda: list(
                    client.receive_messages(
                        messages_per_page=self.options.batch_size,
                        max_messages=self.options.batch_size,
                        visibility_timeout=self.lease,
                    )
                )
            )
        except ResourceNotFoundError:
            return []  # the queue does not exist yet: nothing to do, like an empty queue
        except AzureError as exc:  # storage down: keep polling with back-off, log once
            if not self._outage:
                log.warning("Queue '%s' unavailable, retrying: %s", self.queue, str(exc).splitlines()[0])
            self._outage = True
            return []
        if self._outage:
            log.info("Queue '%s' reachable again", self.queue)
            self._outage = False
        return messages

    async def _process(self, message: StorageMessage) -> None:
        lease = _Lease(message.id, message.pop_receipt)
        if message.dequeue_count > self.options.max_dequeue_count:
            await self.clients.run(self._complete, message, lease, False)
            return
        renewer = asyncio.create_task(self._renew(lease))
        outputs = None
        try:
            body = decode(message.content, self.options.message_encoding)
            value = self._trigger_value(message, body)
        except (MessageDecodeError, UnicodeDecodeError) as exc:  # a binding failure fails the invocation
            log.error("Function '%s' failed on message %s: %s", self.spec.name, message.id, exc)
        else:
            reason = f"New queue message detected on '{self.queue}'."
            outputs = await self.invoker.invoke(self.spec, value, self._trigger_data(message, body), reason)
        finally:
            lease.released.set()  # not cancel(): a renewal in flight must finish, it changes the receipt
            await renewer
        await self.clients.run(self._complete, message, lease, outputs is not None)

    def _trigger_value(self, message: StorageMessage, body: bytes) -> Any:
        param = self.spec.parameters[self.spec.trigger.name]
        if param.annotation in (str, "str"):
            return body.decode()
        if param.annotation in (bytes, "bytes"):
            return body
        return to_function_message(message, body)

    def _trigger_data(self, message: StorageMessage, body: bytes) -> dict[str, Any]:
        return {
            "queueTrigger": body.decode(errors="replace"),
            "id": message.id,
            "dequeueCount": message.dequeue_count,
            "popReceipt": message.pop_receipt,
        }

    async def _renew(self, lease: _Lease) -> None:
        client = self.clients.get(self.connection, self.queue)
        while True:
            try:
                await asyncio.wait_for(lease.released.wait(), self.lease / 2)
                return
            except TimeoutError:
                pass
            try:
                updated = await self.clients.run(
                    client.update_message, lease.id, lease.pop_receipt, visibility_timeout=self.lease
                )
                lease.pop_receipt = updated.pop_receipt
            except AzureError as exc:
                log.warning("Could not renew the lease of message %s: %s", lease.id, str(exc).splitlines()[0])

    def _complete(self, message: StorageMessage, lease: _Lease, succeeded: bool) -> None:
        """Delete, release for retry, or poison (runs in a worker thread)."""
        client = self.clients.get(self.connection, self.queue)
        try:
            if succeeded:
                client.delete_message(lease.id, lease.pop_receipt)
            elif message.dequeue_count >= self.options.max_dequeue_count:
                poison = self.queue + POISON_SUFFIX
                log.warning(
                    "Message has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
                    self.options.max_dequeue_count,
                    poison,
                )
                self.clients.ensure(self.connection, poison)
                self.clients.get(self.connection, poison).send_message(message.content)
                client.delete_message(lease.id, lease.pop_receipt)
            else:
                client.update_message(
                    lease.id, lease.pop_receipt, visibility_timeout=int(self.options.visibility_timeout)
                )
        except AzureError as exc:  # e.g. storage down: the message reappears when its lease ends
            log.warning("Could not complete message %s on '%s': %s", lease.id, self.queue, str(exc).splitlines()[0])

    async def stop(self, drain: float = 10.0) -> None:
        """Stop polling; let running invocations finish for up to `drain` seconds."""
        self._stop.set()
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=drain)
            for task in pending:  # their messages reappear after the lease, at-least-once
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
