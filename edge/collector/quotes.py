"""From IB's values to chain-snapshot/1: sentinel handling and snapshot building. Pure.

IB marks "no value" with sentinels rather than nulls: -1 for a price (and for iv/option price),
0 for a bid/ask price or size (no quote on that side), -2 for greeks; ib_async turns unset fields
into NaN. Every one of them becomes ``None`` here. Volume and open interest keep 0, where it is
a true count; only -1 and NaN are missing for them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from spyglass.contract import Chain, Snapshot

PRICE_SENTINELS = (-1.0, 0.0)
GREEK_SENTINEL = -2.0


def clean_price(v: float | None) -> float | None:
    """A price, or None for NaN, -1 and 0 (other negatives are data: the detectors judge them)."""
    if v is None:
        return None
    v = float(v)
    if not math.isfinite(v) or v in PRICE_SENTINELS:
        return None
    return v


def clean_size(v: float | None) -> float | None:
    """A bid/ask size, or None for NaN and sizes <= 0 (0 means no quote on that side)."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) and v > 0 else None


def clean_count(v: float | None) -> float | None:
    """Volume or open interest: None for NaN and -1; 0 is a real count."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) and v >= 0 else None


def clean_greek(v: float | None) -> float | None:
    """A greek, or None for NaN and -2 (ib_async passes -2 vega/theta through)."""
    if v is None:
        return None
    v = float(v)
    return None if not math.isfinite(v) or v == GREEK_SENTINEL else v


@dataclass(frozen=True, slots=True)
class Quote:
    """One option line's latest values as IB delivered them (sentinels and NaN allowed)."""

    right: str
    strike: float
    bid: float | None = None
    ask: float | None = None
    last: float | None = None
    volume: float | None = None
    open_interest: float | None = None
    bid_size: float | None = None
    ask_size: float | None = None
    age_ms: float | None = None  # since this line's newest tick was received (ib_async Ticker.timestamp)

    def row(self) -> dict | None:
        """The contract row, or None if the line has shown nothing yet (no quote, no trade)."""
        bid, ask = clean_price(self.bid), clean_price(self.ask)
        bsz, asz = clean_size(self.bid_size), clean_size(self.ask_size)
        if bid is None:
            bsz = None
        if ask is None:
            asz = None
        last = clean_price(self.last)
        vol, oi = clean_count(self.volume), clean_count(self.open_interest)
        if bid is None and ask is None and last is None and vol is None:
            return None
        row = {"right": self.right, "strike": float(self.strike), "bid": bid, "ask": ask, "last": last,
               "volume": vol, "open_interest": oi, "bid_size": bsz, "ask_size": asz}
        if self.age_ms is not None and math.isfinite(self.age_ms):
            row["quote_age_ms"] = max(0, round(self.age_ms))
        return row


def spot_from(bid: float | None, ask: float | None, last: float | None) -> float | None:
    """The underlying's price: last if inside the quote, else the mid, else whatever exists."""
    b, a, t = clean_price(bid), clean_price(ask), clean_price(last)
    if b is not None and a is not None and 0 < b <= a:
        if t is not None and b <= t <= a:
            return t
        return round((b + a) / 2, 6)
    if t is not None and t > 0:
        return t
    for v in (b, a):
        if v is not None and v > 0:
            return v
    return None


def build_snapshot(
    *,
    underlying: str,
    expiry: date,
    ts: datetime,
    spot: float | None,
    quotes: Iterable[Quote],
    seq: int,
    expiry_close: datetime | None = None,
    delayed: bool = False,
    source: str = "ibkr",
) -> Snapshot | None:
    """The snapshot of the lines streamed now, or None while the underlying has no price."""
    if spot is None or not spot > 0:
        return None
    rows = [r for r in (q.row() for q in quotes) if r is not None]
    return Snapshot(
        underlying=underlying, ts=ts, spot=float(spot), expiry=expiry, chain=Chain.from_rows(rows),
        expiry_close=expiry_close, seq=seq, source=source, delayed=delayed,
    )
