"""Signal factories for the bot tests: real anomaly/1 objects as the ingest function publishes them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from spyglass.contract import Anomaly

# Tuesday 2026-11-24, 10:00 New York: a regular session closing 16:00 (21:00 UTC)
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 24)


def mispricing(side: str = "cheap", right: str = "C", strike: float = 600.0, bid: float = 1.00, ask: float = 1.02,
               fair: float = 1.20, ts: datetime = NOW, expiry: date = TODAY, **over: Any) -> dict[str, Any]:
    a = Anomaly(underlying="SPY", expiry=expiry, ts=ts, right=right, strike=strike, type="mispricing",
                score=5.0, severity="high", edge=15.0,
                evidence={"summary": "test", "state": "new", "first_seen": ts.isoformat(), "rule": "mispricing",
                          "side": side, "bid": bid, "ask": ask, "fair": fair},
                data_quality={"grade": "good", "two_sided_share": 1.0})
    return {**a.to_dict(), **over}


def arbitrage(kind: str = "vertical", legs: tuple[str, ...] = ("C 600", "C 601"), credit: float = 0.10,
              ts: datetime = NOW, right: str = "C", strike: float = 601.0) -> dict[str, Any]:
    a = Anomaly(underlying="SPY", expiry=TODAY, ts=ts, right=right, strike=strike, type="arbitrage", score=10.0,
                severity="high", edge=credit * 100,
                evidence={"summary": "test", "state": "new", "first_seen": ts.isoformat(), "rule": "arbitrage",
                          "kind": kind, "legs": list(legs), "credit": credit, "edge_after_fees": credit * 100 - 1.3},
                data_quality={"grade": "good", "two_sided_share": 1.0})
    return a.to_dict()


def parity(ts: datetime = NOW) -> dict[str, Any]:
    a = Anomaly(underlying="SPY", expiry=TODAY, ts=ts, right="C", strike=600.0, type="parity", score=5.0,
                severity="high", edge=10.0,
                evidence={"summary": "test", "state": "new", "first_seen": ts.isoformat(), "rule": "parity",
                          "direction": "call rich"},
                data_quality={"grade": "good", "two_sided_share": 1.0})
    return a.to_dict()


def later(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)
