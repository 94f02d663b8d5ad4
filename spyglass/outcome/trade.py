"""The trade an alert implies, as legs: what its markouts are measured on.

A leg is one line of the chain ("C"/"P" at a strike) or the underlying ("U", parity's hedge, marked
to spot), a signed quantity in units of the trade (> 0 bought at the ask, < 0 sold at the bid; a
butterfly's wings carry their strike weights) and the entry price per share. The rules write the legs
into the alert's evidence (``evidence["trade"]``), so the trade a trader reads is the one graded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UNDERLYING = "U"


@dataclass(frozen=True, slots=True)
class Leg:
    right: str  # "C", "P" or "U"
    strike: float | None  # None for the underlying
    qty: float  # > 0 bought, < 0 sold, in units of the trade
    price: float  # entry, per share: the ask bought, the bid sold, the spot for the underlying

    @property
    def is_option(self) -> bool:
        return self.right != UNDERLYING

    def to_dict(self) -> dict[str, Any]:
        return {"right": self.right, "strike": self.strike, "qty": round(float(self.qty), 6),
                "price": round(float(self.price), 4)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Leg:
        strike = d.get("strike")
        return cls(str(d["right"]), None if strike is None else float(strike), float(d["qty"]), float(d["price"]))


def buy(right: str, strike: float, ask: float, qty: float = 1.0) -> dict[str, Any]:
    return Leg(right, float(strike), qty, float(ask)).to_dict()


def sell(right: str, strike: float, bid: float, qty: float = 1.0) -> dict[str, Any]:
    return Leg(right, float(strike), -qty, float(bid)).to_dict()


def hedge(qty: float, spot: float) -> dict[str, Any]:
    """The underlying, per option contract's worth of shares (qty 1 = one multiplier of shares)."""
    return Leg(UNDERLYING, None, qty, float(spot)).to_dict()


def legs_of(evidence: dict[str, Any]) -> tuple[Leg, ...]:
    """The legs an alert's evidence names; () when it implies no trade (volume, spreads, data errors)."""
    try:
        return tuple(Leg.from_dict(d) for d in evidence.get("trade") or ())
    except (KeyError, TypeError, ValueError):
        return ()
