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
    failures_table: str = "failures"  # the ingest function's record of each failed try (poison.py)
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
        failures_table=env.get("FAILURES_TABLE", "failures"),
        claim_container=env.get("CLAIM_CHECK_CONTAINER", "claim-checks"),
        retention_days=int(env.get("RETENTION_DAYS", "30")),
        default_underlying=env.get("DEFAULT_UNDERLYING", "SPY"),
    )


API_AUTH_SETTING = "API_AUTH_LEVEL"
API_AUTH_LEVELS = ("function", "anonymous")


def api_auth_level() -> str:
    """Who may call the data routes: ``function`` (a key; the default) or ``anonymous``.

    ``anonymous`` is for a Function App linked as a Static Web App's backend: Azure then lets only
    the linked site reach the app, and its proxy cannot add a key, so the link (and the site's
    roles) is the gate. Read at import, when routes are declared; a bad value stops the app.
    """
    level = os.environ.get(API_AUTH_SETTING, "function").strip().lower()
    if level not in API_AUTH_LEVELS:
        raise RuntimeError(f"app setting {API_AUTH_SETTING}={level!r}: expected one of {', '.join(API_AUTH_LEVELS)}")
    return level
