"""Open alerts followed through their chain's later snapshots, in the scorer's ordered state.

Each new alert whose evidence names a trade is tracked; at each horizon (5 s, 30 s, 2 min, 5 min
after the alert) the first snapshot at or after it is read, if it came within ``tolerance`` of the
horizon (else the horizon is ``missing``: a gap or a halt, never interpolated) and every option leg
has a usable two-sided quote then (else ``missing``, naming the leg). Whether the quote at fault came
back to fair (a sold bid at or below the fitted fair, a bought ask at or above it) is watched on every
snapshot. The settlement comes at the close from the final spot. Pure and JSON-safe: the state lives
in ``ChainState.tracked``, so scaled-out instances, restarts and redeliveries give the same outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from spyglass.contract import Anomaly, Chain, iso_ms
from spyglass.outcome.markout import HORIZONS, SETTLEMENT, Markout, Quote, at_settlement, to_quotes
from spyglass.outcome.trade import Leg, legs_of


def tolerance(horizon_s: float) -> float:
    """How late a horizon's snapshot may be and still stand for it: 2 s, or a quarter of the horizon."""
    return max(2.0, 0.25 * horizon_s)


@dataclass(frozen=True, slots=True)
class Tracked:
    anomaly_id: str
    underlying: str
    alert_ts: str  # ISO, as on the alert
    type: str
    severity: str
    ts: float  # the alert's snapshot time, epoch seconds
    legs: tuple[Leg, ...]
    fault: tuple[str, float, float] | None  # (right, strike, qty) of the leg on the alert's own line
    done: tuple[str, ...] = ()  # horizons recorded
    reverted_s: float | None = None

    @property
    def settling(self) -> bool:
        """Every horizon read: only the settlement is left, nothing to look at until the close."""
        return len(self.done) == len(HORIZONS)

    def markout(self, horizon: str, status: str, **values: Any) -> Markout:
        return Markout(self.anomaly_id, self.underlying, self.alert_ts, self.type, self.severity, horizon, status,
                       **values)

    def to_dict(self) -> dict[str, Any]:
        return {"anomaly_id": self.anomaly_id, "underlying": self.underlying, "alert_ts": self.alert_ts,
                "type": self.type, "severity": self.severity, "ts": self.ts,
                "legs": [leg.to_dict() for leg in self.legs], "fault": list(self.fault) if self.fault else None,
                "done": list(self.done), "reverted_s": self.reverted_s}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tracked:
        fault = d.get("fault")
        return cls(d["anomaly_id"], d["underlying"], d["alert_ts"], d["type"], d["severity"], float(d["ts"]),
                   tuple(Leg.from_dict(x) for x in d["legs"]),
                   (str(fault[0]), float(fault[1]), float(fault[2])) if fault else None,
                   tuple(d.get("done") or ()), d.get("reverted_s"))


def track(anomalies: Iterable[Anomaly]) -> list[Tracked]:
    """The new alerts that imply a trade (an incident's trade is its primary's)."""
    out = []
    for a in anomalies:
        legs = legs_of(a.evidence)
        if not legs or a.evidence.get("state") != "new":
            continue
        own = next((leg for leg in legs if leg.right == a.right and leg.strike == a.strike), None)
        out.append(Tracked(a.id, a.underlying, iso_ms(a.ts), a.type, a.severity, a.ts.timestamp(), legs,
                           (own.right, float(own.strike), own.qty) if own else None))
    return out


@dataclass(frozen=True, slots=True)
class Lines:
    """One snapshot's quotes as the tracker reads them: per (right, strike), usable or not, and fair."""

    chain: Chain
    usable: np.ndarray  # two-sided and trusted (not stale, not a bad print)
    fair: np.ndarray  # the fitted fair value per share (NaN where there is none)

    def _index(self, right: str, strike: float | None) -> int | None:
        """The line's position: a few legs are looked up per snapshot, so a scan beats building a map."""
        hit = np.flatnonzero((self.chain.strike == strike) & (self.chain.is_call == (right == "C")))
        return int(hit[0]) if hit.size else None

    def quote(self, leg: Leg) -> Quote | None:
        i = self._index(leg.right, leg.strike)
        if i is None or not self.usable[i]:
            return None
        return Quote(float(self.chain.bid[i]), float(self.chain.ask[i]))

    def back_to_fair(self, right: str, strike: float, qty: float) -> bool:
        i = self._index(right, strike)
        if i is None or not self.usable[i] or not math.isfinite(self.fair[i]):
            return False
        return bool(self.chain.bid[i] <= self.fair[i]) if qty < 0 else bool(self.chain.ask[i] >= self.fair[i])


def advance(tracked: list[Tracked], ts: float, ts_iso: str, lines: Lines, spot: float, multiplier: float,
            fee: float) -> tuple[list[Markout], list[Tracked]]:
    """The horizons this snapshot completes, and the alerts still open (all of them: those with every horizon
    read wait for the settlement, see ``Tracked.settling``)."""
    out: list[Markout] = []
    still: list[Tracked] = []
    for t in tracked:
        if t.reverted_s is None and t.fault is not None and ts > t.ts and lines.back_to_fair(*t.fault):
            t = replace(t, reverted_s=round(ts - t.ts, 3))
        done = list(t.done)
        for name, h in HORIZONS:
            if name in done or ts < t.ts + h:
                continue
            done.append(name)
            late = ts - (t.ts + h)
            if late > tolerance(h):
                out.append(t.markout(name, "missing", reason=f"no snapshot within {tolerance(h):g} s of the horizon "
                                                             f"(the next came {late:.0f} s late)"))
                continue
            quotes = [lines.quote(leg) if leg.is_option else Quote(spot, spot) for leg in t.legs]
            absent = [leg for leg, q in zip(t.legs, quotes) if q is None]
            if absent:
                names = ", ".join(f"{leg.right} {leg.strike:g}" for leg in absent)
                out.append(t.markout(name, "missing", ts=ts_iso, reason=f"no usable two-sided quote for {names}"))
                continue
            mid, exit_ = to_quotes(t.legs, quotes, spot, multiplier, fee)
            out.append(t.markout(name, "ok", ts=ts_iso, mid=round(mid, 2), exit=round(exit_, 2),
                                 reverted_s=t.reverted_s))
        still.append(replace(t, done=tuple(done)))
    return out, still


def settle(tracked: list[Tracked], spot: float, ts_iso: str, multiplier: float, fee: float) -> list[Markout]:
    """At the close: every open alert held to expiry at ``spot``; horizons never reached are missing."""
    out = []
    for t in tracked:
        out += [t.markout(name, "missing", reason="the session ended before this horizon")
                for name, _ in HORIZONS if name not in t.done]
        out.append(t.markout(SETTLEMENT, "ok", ts=ts_iso, mid=round(at_settlement(t.legs, spot, multiplier, fee), 2),
                             reverted_s=t.reverted_s))
    return out
