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


def facet(type_: str, edge: float | None = None, severity: str = "high", **evidence: Any) -> dict[str, Any]:
    """One face of an incident, in the shape the scorer writes (spyglass.detect.scorer._facet)."""
    return {"type": type_, "rule": f"{type_}.test", "score": 3.0, "severity": severity, "edge": edge,
            "summary": f"also {type_}", "evidence": evidence}


def incident(primary: dict[str, Any], *facets: dict[str, Any]) -> dict[str, Any]:
    """``primary`` as an incident with ``facets``, validated as anomaly/1 objects are."""
    return Anomaly.from_dict({**primary, "facets": list(facets)}).to_dict()


def chain_level(type_: str = "iv_jump", rule: str = "iv_jump.smile_shift", ts: datetime = NOW) -> dict[str, Any]:
    """A finding about the whole chain: no right, no strike; the lines it stands for in its evidence."""
    a = Anomaly(underlying="SPY", expiry=TODAY, ts=ts, right=None, strike=None, type=type_, score=6.0,
                severity="high", edge=None,
                evidence={"summary": "the smile moved", "state": "new", "first_seen": ts.isoformat(), "rule": rule,
                          "contracts": ["C 600", "C 601", "C 602", "C 603", "C 604"], "count": 5,
                          "event": "smile_shift", "legs": ["C 600", "C 601"], "kind": "vertical", "credit": 0.1,
                          "side": "cheap", "fair": 1.2, "bid": 1.0, "ask": 1.02},
                data_quality={"grade": "good", "two_sided_share": 1.0})
    return a.to_dict()
