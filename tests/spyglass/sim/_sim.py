"""Helpers shared by the market tests: implied vols and deltas from quotes."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from spyglass.analytics.black import black_price, norm_cdf
from spyglass.clock import SECONDS_PER_YEAR


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def years_left(snap: dict) -> float:
    return (ts(snap["expiry_close"]) - ts(snap["ts"])).total_seconds() / SECONDS_PER_YEAR


def forward(snap: dict) -> float:
    return snap["spot"] * math.exp((snap["rate"] - snap["dividend_yield"]) * years_left(snap))


def implied_vols(snap: dict, price: np.ndarray, strike: np.ndarray, is_call: np.ndarray) -> np.ndarray:
    """Bisection on black_price (test helper only)."""
    n = strike.shape[0]
    f, t, r = forward(snap), years_left(snap), snap["rate"]
    lo, hi = np.full(n, 1e-4), np.full(n, 5.0)
    for _ in range(70):
        mid = 0.5 * (lo + hi)
        p = black_price(np.full(n, f), strike, np.full(n, t), np.full(n, r), mid, is_call)
        hi = np.where(p > price, mid, hi)
        lo = np.where(p > price, lo, mid)
    return 0.5 * (lo + hi)


def rr25_from_quotes(snap: dict) -> float:
    """25-delta call IV minus put IV, from two-sided OTM mids, interpolated in delta."""
    rows = [c for c in snap["contracts"] if c["bid"] is not None]
    f, t = forward(snap), years_left(snap)
    strike = np.array([c["strike"] for c in rows])
    is_call = np.array([c["right"] == "C" for c in rows])
    mid = np.array([(c["bid"] + c["ask"]) / 2 for c in rows])
    vol = implied_vols(snap, mid, strike, is_call)
    sig = vol * math.sqrt(t)
    d1 = np.log(f / strike) / sig + 0.5 * sig
    nd1 = np.array([norm_cdf(x) for x in d1])
    delta = np.where(is_call, nd1, nd1 - 1.0)
    out = []
    for want, mask in ((0.25, is_call & (strike >= f)), (-0.25, ~is_call & (strike <= f))):
        d, v = delta[mask], vol[mask]
        o = np.argsort(d)
        out.append(float(np.interp(want, d[o], v[o])))
    return out[0] - out[1]


def by_key(snap: dict) -> dict[tuple[str, float], dict]:
    return {(c["right"], c["strike"]): c for c in snap["contracts"]}
