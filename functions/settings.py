"""App settings (environment variables, as Azure Functions provides them), read once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

SNAPSHOT_QUEUE = "chain-snapshots"  # fixed: the edge, the trigger and the infrastructure all name it


@dataclass(frozen=True, slots=True)
class Settings:
    storage_setting: str = "AzureWebJobsStorage"
    anomalies_table: str = "anomalies"
    chainstate_table: str = "chainstate"
    signals_table: str = "signals"
    claim_container: str = "claim-checks"
    retention_days: int = 30
    default_underlying: str = "SPY"


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    return Settings(
        anomalies_table=env.get("ANOMALIES_TABLE", "anomalies"),
        chainstate_table=env.get("CHAINSTATE_TABLE", "chainstate"),
        signals_table=env.get("SIGNALS_TABLE", "signals"),
        claim_container=env.get("CLAIM_CHECK_CONTAINER", "claim-checks"),
        retention_days=int(env.get("RETENTION_DAYS", "30")),
        default_underlying=env.get("DEFAULT_UNDERLYING", "SPY"),
    )
