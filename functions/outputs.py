"""What applying snapshots produces: anomaly and signal rows, and the SignalR messages that announce them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from functions import storage
from functions.settings import settings
from spyglass.config import DetectorConfig
from spyglass.contract import Anomaly, iso_ms
from spyglass.detect.finding import Finding
from spyglass.detect.scorer import Scorer
from spyglass.wire import realtime
from spyglass.outcome import Markout
from spyglass.wire.tables import anomaly_entity, outcome_entity

SIGNAL_TYPES = ("mispricing", "parity", "arbitrage")
_scorer: Scorer | None = None


def scorer() -> Scorer:
    global _scorer
    if _scorer is None:
        _scorer = Scorer(DetectorConfig.from_env())
    return _scorer


def is_signal(a: Anomaly, min_edge: float) -> bool:
    """Actionable: a new, high-severity, tradeable mispricing with edge above the threshold."""
    return (a.type in SIGNAL_TYPES and a.severity == "high" and a.edge is not None and a.edge >= min_edge
            and a.evidence.get("state") == "new")


@dataclass
class Outputs:
    messages: list[dict] = field(default_factory=list)  # SignalR
    scoring_ms: float = 0.0
    lag_s: float | None = None


def delivery_anomaly(underlying: str, expiry: str, ts: datetime, f: Finding) -> Anomaly:
    """A snapshot-level data_error about delivery (clock, gap), outside the scorer."""
    return Anomaly(underlying=underlying, expiry=date.fromisoformat(expiry), ts=ts, right=None, strike=None,
                   type=f.type, score=f.score, severity=f.severity, edge=None,
                   evidence={"summary": f.summary, "rule": f.rule, "state": "new", "first_seen": iso_ms(ts),
                             **f.numbers},
                   data_quality={"grade": "poor", "two_sided_share": 0.0, "notes": [f.summary]})


def write_outputs(outbox: list[dict], outcomes: list[dict] = ()) -> list[dict]:
    """Upsert anomalies and signals, merge outcomes into their alerts' rows (all idempotent); return the SignalR
    messages to publish."""
    cfg = settings()
    messages: list[dict] = []
    if outcomes:
        marks = [Markout.from_dict(m) for m in outcomes]
        storage.merge_all(storage.table(cfg.anomalies_table), [outcome_entity(m) for m in marks])
        messages += [realtime.message(realtime.OUTCOME, m) for m in outcomes]
    anomalies = [Anomaly.from_dict(a) for a in outbox]
    if anomalies:
        storage.upsert_all(storage.table(cfg.anomalies_table), [anomaly_entity(a) for a in anomalies])
        messages += [realtime.message(realtime.ANOMALY, a) for a in outbox]
        signals = [a for a in anomalies if is_signal(a, scorer().config.signal_min_edge)]
        if signals:
            storage.upsert_all(storage.table(cfg.signals_table), [anomaly_entity(a) for a in signals])
            messages += [realtime.message(realtime.SIGNAL, a.to_dict()) for a in signals]
    return messages
