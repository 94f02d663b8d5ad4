"""Publisher settings from the environment (the k8s ConfigMap and Secret), read once at startup.

| variable | default | meaning |
|---|---|---|
| ``SPOOL_PATH`` | ``/data/spool/spool.db`` | SQLite spool on the PVC |
| ``SPOOL_MAX_SNAPSHOTS`` | 50000 | bound, count |
| ``SPOOL_MAX_BYTES`` | 1073741824 | bound, bytes of compact messages |
| ``PUBLISH_MAX_IN_FLIGHT`` | 4 | concurrent sends (a message is overtaken by at most this minus one) |
| ``QUEUE_SAS_URL`` | | auth 1: add-only SAS URL of the queue (Secret) |
| ``CLAIM_CHECK_SAS_URL`` | | with auth 1: container SAS URL (create, write) for claim-checks (Secret) |
| ``STORAGE_CONNECTION_STRING`` | | auth 2: account connection string (Secret) |
| ``STORAGE_QUEUE_URL`` / ``STORAGE_BLOB_URL`` | | auth 3: account URLs, Entra ID (``DefaultAzureCredential``) |
| ``SNAPSHOT_QUEUE`` / ``CLAIM_CHECK_CONTAINER`` | ``chain-snapshots`` / ``claim-checks`` | names (auth 2 and 3) |

Exactly one auth must be configured; the first found in the order above wins.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from edge.collector.publish_queue import QueueTarget
from edge.collector.spool import DEFAULT_MAX_BYTES, DEFAULT_MAX_COUNT
from spyglass.wire.queue import DEFAULT_CLAIM_CONTAINER, SNAPSHOT_QUEUE


class SettingsError(ValueError):
    """A missing or malformed publisher setting; the text names the variable."""


@dataclass(frozen=True, slots=True)
class PublisherSettings:
    spool_path: str = "/data/spool/spool.db"
    max_count: int = DEFAULT_MAX_COUNT
    max_bytes: int = DEFAULT_MAX_BYTES
    max_in_flight: int = 4
    queue_sas_url: str | None = None
    claim_check_sas_url: str | None = None
    connection_string: str | None = None
    queue_account_url: str | None = None
    blob_account_url: str | None = None
    queue_name: str = SNAPSHOT_QUEUE
    claim_container: str = DEFAULT_CLAIM_CONTAINER

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PublisherSettings:
        env = os.environ if env is None else env
        return cls(
            spool_path=env.get("SPOOL_PATH", cls.spool_path),
            max_count=_int(env, "SPOOL_MAX_SNAPSHOTS", DEFAULT_MAX_COUNT),
            max_bytes=_int(env, "SPOOL_MAX_BYTES", DEFAULT_MAX_BYTES),
            max_in_flight=_int(env, "PUBLISH_MAX_IN_FLIGHT", 4),
            queue_sas_url=env.get("QUEUE_SAS_URL") or None,
            claim_check_sas_url=env.get("CLAIM_CHECK_SAS_URL") or None,
            connection_string=env.get("STORAGE_CONNECTION_STRING") or None,
            queue_account_url=env.get("STORAGE_QUEUE_URL") or None,
            blob_account_url=env.get("STORAGE_BLOB_URL") or None,
            queue_name=env.get("SNAPSHOT_QUEUE", SNAPSHOT_QUEUE),
            claim_container=env.get("CLAIM_CHECK_CONTAINER", DEFAULT_CLAIM_CONTAINER),
        )

    def target(self) -> QueueTarget:
        if self.queue_sas_url:
            return QueueTarget.from_sas_url(self.queue_sas_url, self.claim_check_sas_url)
        if self.connection_string:
            return QueueTarget.from_connection_string(self.connection_string, self.queue_name, self.claim_container)
        if self.queue_account_url:
            return QueueTarget.from_account(self.queue_account_url, self.blob_account_url,
                                            queue_name=self.queue_name, claim_container=self.claim_container)
        raise SettingsError("no queue auth configured: set QUEUE_SAS_URL (add-only SAS), "
                            "STORAGE_CONNECTION_STRING, or STORAGE_QUEUE_URL (Entra ID)")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value
