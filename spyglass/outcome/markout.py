"""What an alert's trade was worth later: to the mid, to the exit side, and at the settlement.

Per unit of the trade, in dollars per contract, after fees: ``fee`` per option contract traded,
paid at entry (to mid, at the settlement) and again at the exit (to the exit side, crossing the
spread then). Options settle at their intrinsic value from the final spot; the underlying marks to
spot. A horizon whose quote is missing is ``missing`` with the reason: never interpolated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spyglass.outcome.trade import Leg

HORIZONS: tuple[tuple[str, float], ...] = (("5s", 5.0), ("30s", 30.0), ("2m", 120.0), ("5m", 300.0))
SETTLEMENT = "settle"


@dataclass(frozen=True, slots=True)
class Quote:
    bid: float
    ask: float

    @property
    def mid(self) -> float:
        return 0.5 * (self.bid + self.ask)


@dataclass(frozen=True, slots=True)
class Markout:
    """One horizon of one alert: ``status`` "ok" with the two markouts, or "missing" with the reason."""

    anomaly_id: str
    underlying: str
    alert_ts: str  # the alert's time (ISO): with its id, where its row is
    type: str  # the alert's (primary) type and severity, for grading
    severity: str
    horizon: str
    status: str
    ts: str | None = None  # the snapshot it was read from (ISO)
    mid: float | None = None  # dollars per contract, after the entry fees
    exit: float | None = None  # closing across the spread then, after both fees
    reverted_s: float | None = None  # seconds until the quote at fault came back to fair, if it had by then
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}

    def public(self) -> dict[str, Any]:
        """This horizon as anomaly/1's ``outcome[horizon]``: what happened, not whose it is."""
        return {k: getattr(self, k) for k in ("status", "ts", "mid", "exit", "reverted_s", "reason")
                if getattr(self, k) is not None}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Markout:
        return cls(**{k: d.get(k) for k in cls.__slots__})


def fees(legs: tuple[Leg, ...], fee: float) -> float:
    """Fees to open (or to close) one unit of the trade: per option contract, underlying free."""
    return fee * sum(abs(leg.qty) for leg in legs if leg.is_option)


def to_quotes(legs: tuple[Leg, ...], quotes: list[Quote], spot: float, multiplier: float,
              fee: float) -> tuple[float, float]:
    """(to mid, to the exit side) with each option leg's quote then, in the order of ``legs``."""
    mid = exit_ = 0.0
    for leg, q in zip(legs, quotes, strict=True):
        now_mid = spot if not leg.is_option else q.mid
        now_exit = spot if not leg.is_option else (q.bid if leg.qty > 0 else q.ask)
        mid += leg.qty * (now_mid - leg.price)
        exit_ += leg.qty * (now_exit - leg.price)
    opening = fees(legs, fee)
    return mid * multiplier - opening, exit_ * multiplier - 2.0 * opening


def at_settlement(legs: tuple[Leg, ...], spot: float, multiplier: float, fee: float) -> float:
    """Held to the close: options worth their intrinsic value at the final spot, the entry fees paid."""
    value = 0.0
    for leg in legs:
        if not leg.is_option:
            worth = spot
        elif leg.right == "C":
            worth = max(spot - float(leg.strike), 0.0)
        else:
            worth = max(float(leg.strike) - spot, 0.0)
        value += leg.qty * (worth - leg.price)
    return value * multiplier - fees(legs, fee)
