"""App settings (environment variables, as Azure Functions provides them), read once; who may call: auth.py."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from spyglass.clock import CLOCK_SETTING
from spyglass.wire.queue import DEFAULT_CLAIM_CONTAINER


@dataclass(frozen=True, slots=True)
class Settings:
    storage_setting: str = "AzureWebJobsStorage"
    anomalies_table: str = "anomalies"
    chainstate_table: str = "chainstate"
    signals_table: str = "signals"
    failures_table: str = "failures"  # the ingest function's record of each failed try (poison.py)
    claim_container: str = DEFAULT_CLAIM_CONTAINER
    retention_days: int = 30
    default_underlying: str = "SPY"
    clock_offset_s: float = 0.0
    max_ahead_s: float = 60.0  # a snapshot stamped further ahead of now is a clock error
    max_behind_s: float = 7 * 86400.0  # ... or further behind: older than the queue's message time-to-live

    def now(self) -> datetime:
        """The app's clock: real time, shifted by ``SPYGLASS_CLOCK_OFFSET_S`` where a demo or test replays a day."""
        return datetime.now(timezone.utc) + timedelta(seconds=self.clock_offset_s)


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    return Settings(
        anomalies_table=env.get("ANOMALIES_TABLE", "anomalies"),
        chainstate_table=env.get("CHAINSTATE_TABLE", "chainstate"),
        signals_table=env.get("SIGNALS_TABLE", "signals"),
        failures_table=env.get("FAILURES_TABLE", "failures"),
        claim_container=env.get("CLAIM_CHECK_CONTAINER", DEFAULT_CLAIM_CONTAINER),
        retention_days=int(env.get("RETENTION_DAYS", "30")),
        default_underlying=env.get("DEFAULT_UNDERLYING", "SPY"),
        clock_offset_s=float(env.get(CLOCK_SETTING, "0")),
        max_ahead_s=float(env.get("SNAPSHOT_MAX_AHEAD_S", "60")),
        max_behind_s=float(env.get("SNAPSHOT_MAX_BEHIND_S", str(7 * 86400))),
    )

