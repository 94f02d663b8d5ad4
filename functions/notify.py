"""Optional webhook for high-severity anomalies (Telegram Bot API compatible), rate-limited across instances.

Settings: ``NOTIFY_WEBHOOK_URL`` (e.g. https://api.telegram.org/bot<token>/sendMessage, kept in app
settings or Key Vault, never in the repo), ``NOTIFY_CHAT_ID``, ``NOTIFY_MIN_SEVERITY`` (default
high), ``NOTIFY_MAX_PER_MINUTE`` (default 6). The limit is a per-minute counter row in the
chainstate table updated with ETag concurrency, so it holds however many instances run.
Only ``new`` anomalies notify: a lasting condition is one message, not one a second.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from spyglass.contract import SEVERITIES, Anomaly

log = logging.getLogger("spyglass.notify")
RATE_PARTITION = "notify-rate"


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    url: str
    chat_id: str
    min_severity: str = "high"
    max_per_minute: int = 6

    @classmethod
    def from_env(cls) -> NotifyConfig | None:
        url = os.environ.get("NOTIFY_WEBHOOK_URL")
        if not url:
            return None
        sev = os.environ.get("NOTIFY_MIN_SEVERITY", "high")
        return cls(url, os.environ.get("NOTIFY_CHAT_ID", ""), sev if sev in SEVERITIES else "high",
                   int(os.environ.get("NOTIFY_MAX_PER_MINUTE", "6")))


def wanted(a: Anomaly, cfg: NotifyConfig) -> bool:
    return (a.evidence.get("state") == "new" and a.type != "data_error"
            and SEVERITIES.index(a.severity) >= SEVERITIES.index(cfg.min_severity))


def take_slot(table: TableClient, cfg: NotifyConfig, now: datetime, attempts: int = 5) -> bool:
    """Claim one of this minute's slots; False when the minute's budget is spent."""
    minute = now.astimezone(timezone.utc).strftime("%Y%m%d%H%M")
    for _ in range(attempts):
        try:
            row = table.get_entity(RATE_PARTITION, minute)
        except ResourceNotFoundError:
            try:
                table.create_entity({"PartitionKey": RATE_PARTITION, "RowKey": minute, "sent": 1, "ts": now})
                return True
            except ResourceExistsError:
                continue
        if row["sent"] >= cfg.max_per_minute:
            return False
        row["sent"] += 1
        try:
            table.update_entity(row, mode=UpdateMode.MERGE, etag=row.metadata["etag"],
                                match_condition=MatchConditions.IfNotModified)
            return True
        except ResourceModifiedError:
            continue
    return False


def message(a: Anomaly) -> str:
    """One line; an incident names its primary type then its facets' (one message for the one event)."""
    return f"[{a.severity.upper()}] {a.underlying} {' + '.join(a.types)}: {a.evidence.get('summary', '')}"


def notify(anomalies: list[Anomaly], table: TableClient, cfg: NotifyConfig | None,
           client: httpx.Client | None = None, now: datetime | None = None) -> int:
    """Send what is wanted within the rate limit; failures are logged, never raised (scoring goes on)."""
    if cfg is None:
        return 0
    now = now or datetime.now(timezone.utc)
    sent = 0
    for a in anomalies:
        if not wanted(a, cfg):
            continue
        if not take_slot(table, cfg, now):
            log.warning("notify: rate limit of %d per minute reached; %s not sent", cfg.max_per_minute, a.id)
            break
        try:
            (client or httpx).post(cfg.url, json={"chat_id": cfg.chat_id, "text": message(a),
                                                  "disable_web_page_preview": True}, timeout=5.0)
            sent += 1
        except httpx.HTTPError as exc:
            log.warning("notify: webhook failed for %s: %s", a.id, exc)
    return sent
