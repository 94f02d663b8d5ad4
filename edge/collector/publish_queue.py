"""Where the publisher sends: the ``chain-snapshots`` queue, plus a blob container for claim-checks.

Three ways to authenticate, all built on the same SDK clients:

- ``from_sas_url``: an add-only queue SAS URL (the production default: the edge can
  enqueue and nothing else), plus a container SAS URL (create/write) for claim-checks;
- ``from_connection_string``: the account connection string (local stack, Azurite);
- ``from_account``: Entra ID, ``DefaultAzureCredential`` (workload identity, managed
  identity, az login) against the account URLs.

The SDK's own retry is off (``retry_total=0``): the publisher retries with its own
backoff, which a stop() interrupts, and which never blocks ``submit``. Messages are
base64-encoded (``TextBase64EncodePolicy``) because the Functions queue trigger
expects base64. One client per target, shared by the sender threads, so one HTTP
connection pool is reused.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContainerClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from edge.collector import metrics
from edge.collector.spool import Entry
from spyglass.wire.queue import DEFAULT_CLAIM_CONTAINER, QUEUE_LIMIT, SNAPSHOT_QUEUE, claim_name, claim_reference

log = logging.getLogger(__name__)

# The SDK logs every request and response at INFO (~15 lines each): at one send per snapshot that
# would drown the collector's own log. Quiet it unless someone configured that logger explicitly.
_SDK_HTTP_LOG = logging.getLogger("azure.core.pipeline.policies.http_logging_policy")
if _SDK_HTTP_LOG.level == logging.NOTSET:
    _SDK_HTTP_LOG.setLevel(logging.WARNING)

_CLIENT_OPTIONS: dict[str, Any] = {"retry_total": 0, "connection_timeout": 5, "read_timeout": 20}


def wire_size(text: str) -> int:
    """Bytes on the wire after base64, which is what the 64 KiB limit counts."""
    return 4 * ((len(text.encode()) + 2) // 3)


@dataclass
class QueueTarget:
    """A queue client and (optionally) a container client for claim-checks; ``where`` has no secrets."""

    queue: QueueClient
    claims: ContainerClient | None
    where: str
    may_create: bool = False  # account-level auth may create the queue/container; a SAS may not
    _created: set[str] = field(default_factory=set)

    @classmethod
    def from_sas_url(cls, queue_sas_url: str, claim_container_sas_url: str | None = None) -> QueueTarget:
        queue = QueueClient.from_queue_url(queue_sas_url, message_encode_policy=TextBase64EncodePolicy(),
                                           **_CLIENT_OPTIONS)
        claims = (ContainerClient.from_container_url(claim_container_sas_url, **_CLIENT_OPTIONS)
                  if claim_container_sas_url else None)
        return cls(queue, claims, f"{queue.url.split('?')[0]} (SAS)")

    @classmethod
    def from_connection_string(cls, conn: str, queue_name: str = SNAPSHOT_QUEUE,
                               claim_container: str = DEFAULT_CLAIM_CONTAINER) -> QueueTarget:
        queue = QueueClient.from_connection_string(conn, queue_name, message_encode_policy=TextBase64EncodePolicy(),
                                                   **_CLIENT_OPTIONS)
        claims = ContainerClient.from_connection_string(conn, claim_container, **_CLIENT_OPTIONS)
        return cls(queue, claims, f"{queue.url} (connection string)", may_create=True)

    @classmethod
    def from_account(cls, queue_account_url: str, blob_account_url: str | None = None, *,
                     queue_name: str = SNAPSHOT_QUEUE, claim_container: str = DEFAULT_CLAIM_CONTAINER,
                     credential: Any = None) -> QueueTarget:
        """Entra ID: ``credential`` defaults to ``DefaultAzureCredential()`` (needs a data-plane role:
        Storage Queue Data Message Sender, and Storage Blob Data Contributor on the claim container)."""
        if credential is None:
            from azure.identity import (
                DefaultAzureCredential,  # only this auth path needs it
            )

            credential = DefaultAzureCredential()
        queue = QueueClient(queue_account_url, queue_name, credential=credential,
                            message_encode_policy=TextBase64EncodePolicy(), **_CLIENT_OPTIONS)
        claims = (ContainerClient(blob_account_url, claim_container, credential=credential, **_CLIENT_OPTIONS)
                  if blob_account_url else None)
        return cls(queue, claims, f"{queue.url} (Entra ID)")

    def close(self) -> None:
        self.queue.close()
        if self.claims is not None:
            self.claims.close()


class QueueSender:
    """Sends one spooled message; anything above the queue limit goes by claim-check.

    Raises on any failure: the caller retries, the spool keeps the message meanwhile.
    """

    def __init__(self, target: QueueTarget) -> None:
        self.target = target
        self._create_lock = threading.Lock()

    def send(self, entry: Entry) -> None:
        text = entry.message
        if wire_size(text) > QUEUE_LIMIT:
            text = self._claim_check(entry)
        try:
            self.target.queue.send_message(text)
        except ResourceNotFoundError:
            if not self._create("queue"):
                raise
            self.target.queue.send_message(text)

    def _claim_check(self, entry: Entry) -> str:
        """Upload the compact message to a blob and return the reference the consumer decodes."""
        claims = self.target.claims
        if claims is None:
            raise RuntimeError(f"{entry.key} is {wire_size(entry.message)} bytes, above the queue limit, and no "
                               "claim-check container is configured (CLAIM_CHECK_SAS_URL or account auth)")
        name = claim_name(entry.key, entry.seq)
        try:
            claims.upload_blob(name, entry.message.encode(), overwrite=True)
        except ResourceNotFoundError:
            if not self._create("container"):
                raise
            claims.upload_blob(name, entry.message.encode(), overwrite=True)
        metrics.CLAIM_CHECKS.inc()
        return claim_reference(claims.container_name, name)

    def _create(self, what: str) -> bool:
        """Create a missing queue/container once (account auth only); True if the send may be retried now."""
        with self._create_lock:
            if not self.target.may_create:
                return False
            if what in self.target._created:
                return True  # another sender thread just created it
            self._create_now(what)
            return True

    def _create_now(self, what: str) -> None:
        try:
            if what == "queue":
                self.target.queue.create_queue()
            else:
                assert self.target.claims is not None
                self.target.claims.create_container()
        except ResourceExistsError:
            pass
        self.target._created.add(what)
        log.warning("created the missing %s for %s", what, self.target.where)
