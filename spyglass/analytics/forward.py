"""Parity-implied forward from fresh near-the-money call/put pairs, checked against spot.

For a European pair at strike K, C - P = DF * (F - K), so tradeable quotes
bound the forward: K + (C_bid - P_ask)/DF <= F <= K + (C_ask - P_bid)/DF.
SPY options are American and the stock pays dividends: deep-in-the-money puts
carry an early-exercise premium, so only the strikes nearest spot are used.

Each pair implies a forward (the middle of its bounds) with an uncertainty
(half the width of its bounds: its half-spread). The reference is the spot
carried to the close, which a frozen or broken pair cannot move:
- pairs within ``pair_half_spreads`` of their half-spreads (plus a tick) of it
  are kept, the rest dropped; with at least ``MIN_PAIRS`` kept, the forward is
  their median, clipped into the intersection of their bounds;
- when fewer agree with spot, the pairs that agree with each other (around
  their median) decide, and if they sit more than ``spot_half_spreads``
  half-spreads (plus a tick) from the carried spot, spot is what is wrong: a
  ``spot_mismatch`` (judged in half-spreads, not in percent);
- with fewer than ``MIN_PAIRS`` usable pairs (the last minutes) the forward is
  the carried spot.
Only pairs the caller marks usable take part: stale and screened-out quotes
never set the forward.
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
    pairs: int  # call/put pairs that set the forward (parity needs at least MIN_PAIRS)
    method: str  # "parity" | "carry"
    carry: float = math.nan  # spot carried to the close
    dropped: int = 0  # near-the-money pairs left out for disagreeing with the others or with spot
    spot_gap_half_spreads: float = math.nan  # (forward - carry) in the pairs' median half-spread
    spot_mismatch: bool = False  # the pairs agree with each other and not with spot: spot is stale or wrong


def two_sided(bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
    """Quotes usable for pricing: finite, positive bid, ask at or above bid."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(bid) & np.isfinite(ask) & (bid > 0.0) & (ask >= bid)


def _median(x: np.ndarray) -> float:
    s = np.sort(x)  # np.median is 30x slower on a handful of values
    m = s.size
    return float(s[m // 2] if m % 2 else 0.5 * (s[m // 2 - 1] + s[m // 2]))


def parity_forward(
    chain: Chain,
    spot: float,
    t: float,
    rate: float,
    dividend_yield: float = 0.0,
    usable: np.ndarray | None = None,
    *,
    tick: float = 0.01,
    pair_half_spreads: float = 4.0,
    spot_half_spreads: float = 10.0,
    max_pairs: int = 8,
    max_distance: float = 0.03,
) -> ForwardEstimate:
    carry = spot * math.exp((rate - dividend_yield) * max(t, 0.0))
    if t <= 0.0:
        return ForwardEstimate(carry, math.nan, math.nan, 0, "carry", carry)
    df = math.exp(-rate * t)
    ok = two_sided(chain.bid, chain.ask)
    if usable is not None:
        ok &= usable
    k, ci, pi = call_put_pairs(chain, ok)
    near = np.abs(k / spot - 1.0) <= max_distance
    order = np.argsort(np.abs(k[near] - spot), kind="stable")[:max_pairs]
    if order.size < MIN_PAIRS:
        # one or two pairs cannot outvote a broken quote; the carry forward is exact enough for 0DTE
        return ForwardEstimate(carry, math.nan, math.nan, int(order.size), "carry", carry)
    k, ci, pi = k[near][order], ci[near][order], pi[near][order]
    lo = k + (chain.bid[ci] - chain.ask[pi]) / df
    hi = k + (chain.ask[ci] - chain.bid[pi]) / df
    mid = 0.5 * (lo + hi)
    half = np.fmax(0.5 * (hi - lo), 0.5 * tick)
    keep = np.abs(mid - carry) <= pair_half_spreads * half + tick
    if keep.sum() < MIN_PAIRS:  # the options disagree with spot: do they agree with each other?
        centre = _median(mid)
        keep = np.abs(mid - centre) <= pair_half_spreads * half + tick
        if keep.sum() < MIN_PAIRS:  # no consensus among the pairs either: trust nothing but spot
            return ForwardEstimate(carry, math.nan, math.nan, 0, "carry", carry, int(order.size))
    forward = _median(mid[keep])
    lower, upper = float(lo[keep].max()), float(hi[keep].min())
    if lower <= upper:
        forward = min(max(forward, lower), upper)
    typical = _median(half[keep])
    gap = forward - carry
    return ForwardEstimate(
        forward, lower, upper, int(keep.sum()), "parity", carry, int(order.size - keep.sum()), gap / typical,
        abs(gap) > spot_half_spreads * typical + tick,
    )


def broken_pairs(chain: Chain, usable: np.ndarray, forward: float, spot: float, t: float, rate: float,
                 dividend_yield: float, tick: float, pair_half_spreads: float) -> np.ndarray:
    """Both legs of every trusted call/put pair whose own forward sits more than ``pair_half_spreads`` of its
    half-width (plus a tick) outside the parity band around ``forward`` (the American early-exercise premia
    included). A pair that contradicts itself cannot tell the smile anything: its legs are left out of the fit
    (the parity rule still judges them)."""
    out = np.zeros(len(chain), dtype=np.bool_)
    if t <= 0:
        return out
    k, ci, pi = call_put_pairs(chain, two_sided(chain.bid, chain.ask) & usable)
    if k.size == 0:
        return out
    df = math.exp(-rate * t)
    lo = k + (chain.bid[ci] - chain.ask[pi]) / df
    hi = k + (chain.ask[ci] - chain.bid[pi]) / df
    half = np.fmax(0.5 * (hi - lo), 0.5 * tick)
    mid = 0.5 * (lo + hi)
    below = forward - k * (1.0 - df) / df  # a put's early-exercise premium lowers C - P by up to K(1 - DF)
    above = forward + spot * (1.0 - math.exp(-dividend_yield * t)) / df
    off = np.fmax(below - mid, mid - above)
    bad = off > pair_half_spreads * half + tick
    out[ci[bad]] = True
    out[pi[bad]] = True
    return out
