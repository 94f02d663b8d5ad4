"""Parity-implied forward from near-the-money call/put pairs.

For a European pair at strike K, C - P = DF * (F - K), so tradeable quotes
bound the forward: K + (C_bid - P_ask)/DF <= F <= K + (C_ask - P_bid)/DF.
SPY options are American and the stock pays dividends: deep-in-the-money puts
carry an early-exercise premium, so only the strikes nearest spot are used,
and the estimate is the median of the pair midpoints, clipped into the
intersection of the bounds when the bounds agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spyglass.analytics.pairs import call_put_pairs
from spyglass.contract import Chain


MIN_PAIRS = 3


@dataclass(frozen=True, slots=True)
class ForwardEstimate:
    forward: float
    lower: float  # tightest lower bound over the pairs used (NaN when none)
    upper: float
    pairs: int  # call/put pairs near the money (parity needs at least MIN_PAIRS)
    method: str  # "parity" | "carry"


def two_sided(bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
    """Quotes usable for pricing: finite, positive bid, ask at or above bid."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(bid) & np.isfinite(ask) & (bid > 0.0) & (ask >= bid)


def parity_forward(
    chain: Chain,
    spot: float,
    t: float,
    rate: float,
    dividend_yield: float = 0.0,
    max_pairs: int = 8,
    max_distance: float = 0.03,
) -> ForwardEstimate:
    carry = spot * math.exp((rate - dividend_yield) * max(t, 0.0))
    if t <= 0.0:
        return ForwardEstimate(carry, math.nan, math.nan, 0, "carry")
    df = math.exp(-rate * t)
    k, ci, pi = call_put_pairs(chain, two_sided(chain.bid, chain.ask))
    near = np.abs(k / spot - 1.0) <= max_distance
    order = np.argsort(np.abs(k[near] - spot), kind="stable")[:max_pairs]
    if order.size < MIN_PAIRS:
        # one or two pairs cannot outvote a broken quote; the carry forward is exact enough for 0DTE
        return ForwardEstimate(carry, math.nan, math.nan, int(order.size), "carry")
    k, ci, pi = k[near][order], ci[near][order], pi[near][order]
    lo = k + (chain.bid[ci] - chain.ask[pi]) / df
    hi = k + (chain.ask[ci] - chain.bid[pi]) / df
    mids = np.sort(0.5 * (lo + hi))
    m = mids.size
    mid = float(mids[m // 2] if m % 2 else 0.5 * (mids[m // 2 - 1] + mids[m // 2]))  # np.median is 30x slower
    lower, upper = float(lo.max()), float(hi.min())
    if lower <= upper:
        mid = min(max(mid, lower), upper)
    return ForwardEstimate(float(mid), lower, upper, int(k.size), "parity")
