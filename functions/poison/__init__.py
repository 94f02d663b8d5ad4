"""The poison queue told truthfully: every message, the reason it failed, and how many tries it had.

When a message fails ``maxDequeueCount`` times the Functions host copies its *body only* to
``chain-snapshots-poison`` (the real WebJobs QueueProcessor sends ``message.Body``; the local
host does the same): a new message, with a new id and a dequeue count of 0. The tries and the
error are lost in the move. So the ingest function records each failed try itself
(``record_failures``): a row in the ``failures`` table keyed by the SHA-256 of the message body,
holding the original id, the dequeue count the host gave that try, and the error. ``inspect``
joins the poison queue to those rows by the same hash.

What that cannot see, and says so: a try that never reached the end of the function (the host
died mid-try, or the message could not be bound) leaves no row, so ``tries`` is the count at the
last *recorded* failure, and ``None`` when there is none. The reason is then re-derived by
decoding the message again with the trigger's codec, with real blob access for claim-checks.

Listing pages through the whole queue: Storage queues only peek the first 32, so messages are
received (hidden for ``LEASE`` seconds) and made visible again at the end.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient, QueueMessage, TextBase64EncodePolicy

from functions import storage
from functions.settings import settings
from spyglass.wire import queue as codec
from spyglass.wire.queue import POISON_QUEUE, SNAPSHOT_QUEUE

FAILURE_ROW = "failure"
LEASE = 120  # seconds a listed message stays hidden if the listing dies before giving it back
MAX_MESSAGES = 10_000  # one listing reads at most this many
MAX_REASON = 2000  # characters of an error kept in a failure row
log = logging.getLogger("spyglass.poison")


@dataclass(frozen=True, slots=True)
class PoisonMessage:
    id: str
    inserted: datetime | None
    text: str
    reason: str  # why it failed: the recorded error, else the codec's verdict now
    tries: int | None  # the host's dequeue count at the last recorded failed try; None: none recorded
    original_id: str | None = None  # its id on chain-snapshots, when a failure was recorded


def body_digest(body: bytes) -> str:
    """The key of a message's failure row: the same for the original and its poison copy."""
    return hashlib.sha256(body).hexdigest()


def record_failures(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a queue-triggered function so that each failed try is recorded before the host sees it fail.

    Apply it directly to the function, below the binding decorators. The recording never hides
    the error: if it fails too (storage down is a common cause of both) it is logged, and the
    original exception is raised.
    """

    @functools.wraps(fn)  # the worker reads the bindings from the wrapped signature
    def handler(msg: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(msg, *args, **kwargs)
        except Exception as exc:
            try:
                storage.table(settings().failures_table).upsert_entity(failure_entity(
                    msg.get_body(), msg.id, msg.dequeue_count, exc))
            except Exception as also:  # noqa: BLE001 - the function's own error is the one to raise
                log.warning("could not record the failure of message %s: %s", msg.id, also)
            raise

    return handler


def failure_entity(body: bytes, message_id: str, dequeue_count: int | None, exc: BaseException) -> dict[str, Any]:
    return {"PartitionKey": body_digest(body), "RowKey": FAILURE_ROW, "message_id": message_id,
            "tries": int(dequeue_count or 0), "reason": describe_error(exc)[:MAX_REASON], "ts": datetime.now(timezone.utc)}


def describe_error(exc: BaseException) -> str:
    """One line: the codec's own words, else the type and the first line (storage errors add their code)."""
    if isinstance(exc, (codec.MessageError, codec.SnapshotError)):
        return str(exc)
    first = (str(exc).splitlines() or [""])[0]
    code = getattr(exc, "error_code", None)
    return f"{type(exc).__name__}: {first}" + (f" ({code})" if code else "")


def _text(content: str) -> str:
    try:
        return base64.b64decode(content, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return content  # written without base64 (messageEncoding none)


def _body(content: str) -> bytes:
    """The bytes the host handed the function for this queue content (base64 removed)."""
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return content.encode()


class Inspector:
    """The poison queue, the failure rows and the claim-check blobs of one storage account."""

    def __init__(self, conn: str) -> None:
        cfg = settings()
        self.poison = QueueClient.from_connection_string(conn, POISON_QUEUE)  # content as stored, never re-encoded
        self.target = QueueClient.from_connection_string(conn, SNAPSHOT_QUEUE,
                                                         message_encode_policy=TextBase64EncodePolicy())
        self.failures = TableClient.from_connection_string(conn, cfg.failures_table)
        self.blobs = BlobServiceClient.from_connection_string(conn)
        self.claim_container = cfg.claim_container

    @contextmanager
    def held(self, limit: int = MAX_MESSAGES) -> Iterator[list[QueueMessage]]:
        """Every message of the poison queue (up to ``limit``), hidden while in hand, visible again after.

        Messages the caller deletes must be removed from the list, or they are "given back" in vain.
        """
        taken: list[QueueMessage] = []
        try:
            while len(taken) < limit:
                batch = list(self.poison.receive_messages(max_messages=min(32, limit - len(taken)),
                                                          visibility_timeout=LEASE))
                if not batch:
                    break
                taken += batch
        except ResourceNotFoundError:
            pass  # no poison queue yet: nothing was ever poisoned
        try:
            yield taken
        finally:
            for m in taken:
                try:  # id and receipt only: passing the message would write its content back, encoded again
                    self.poison.update_message(m.id, m.pop_receipt, visibility_timeout=0)
                except AzureError as exc:  # it comes back by itself when the lease ends
                    log.warning("message %s stays hidden for up to %d s: %s", m.id, LEASE, exc)

    def describe(self, m: QueueMessage) -> PoisonMessage:
        text, body = _text(m.content), _body(m.content)
        try:
            row = self.failures.get_entity(body_digest(body), FAILURE_ROW)
        except (ResourceNotFoundError, AzureError):
            row = None
        if row is not None:
            return PoisonMessage(m.id, m.inserted_on, text, row["reason"], int(row["tries"]), row.get("message_id"))
        return PoisonMessage(m.id, m.inserted_on, text, self.reason_now(text), None)

    def reason_now(self, text: str) -> str:
        """Why the message fails if decoded now, as the trigger decodes it (claim-checks included)."""
        try:
            inner, _ = codec.unwrap_held(text)
            codec.decode(inner, self._fetch, self.claim_container)
        except (codec.MessageError, codec.SnapshotError) as exc:
            return str(exc)
        return "decodes now; no failure recorded (it failed for another reason: see the function logs)"

    def _fetch(self, container: str, name: str, limit: int) -> bytes:
        try:  # one byte past the limit is enough to say it is too large
            return self.blobs.get_blob_client(container, name).download_blob(offset=0, length=limit + 1).readall()
        except ResourceNotFoundError:
            raise codec.MessageError(f"claim-check blob {container}/{name} does not exist") from None
        except AzureError as exc:
            raise codec.MessageError(f"claim-check blob {container}/{name} unreadable: "
                                     f"{str(exc).splitlines()[0]}") from None

    def messages(self, limit: int = MAX_MESSAGES) -> list[PoisonMessage]:
        with self.held(limit) as taken:
            return [self.describe(m) for m in taken]

    def replay(self, ids: set[str] | None = None, limit: int = MAX_MESSAGES) -> int:
        """Move messages (all, or those with ``ids``) back to the snapshot queue; returns how many.

        Their failure rows are deleted: a replayed message starts its tries again.
        """
        try:
            self.target.create_queue()
        except ResourceExistsError:
            pass
        moved = 0
        with self.held(limit) as taken:
            for m in list(taken):
                if ids is not None and m.id not in ids:
                    continue
                self.target.send_message(_text(m.content))
                self.poison.delete_message(m.id, m.pop_receipt)
                taken.remove(m)
                moved += 1
                try:
                    self.failures.delete_entity(body_digest(_body(m.content)), FAILURE_ROW)
                except AzureError:
                    pass  # no row (none recorded), or the table is gone: nothing to forget
        return moved

