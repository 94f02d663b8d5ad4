"""The chain's summary numbers beyond the fit: the expected move to the close and the 25-delta risk reversal.

``spyglass.wire.summary`` puts them, with the fit and GEX, into ``chain-analytics/1``.
"""

from __future__ import annotations

import math

import numpy as np

from numba import njit

from spyglass.analytics.black import norm_cdf
from spyglass.analytics.pairs import call_put_pairs
from spyglass.analytics.pricing import PricedChain
from spyglass.analytics.smile import spline_vol_scalar

_Z = np.linspace(-4.0, 4.0, 81)  # 25-delta vols interpolate to well under 0.1 vol point


def expected_move(p: PricedChain) -> float:
    """ATM straddle mid, interpolated to the forward: the market's price of the move to the close."""
    k, ci, pi = call_put_pairs(p.chain, p.usable)
    if k.size == 0:
        return math.nan
    straddle = p.mid[ci] + p.mid[pi]
    f = p.forward.forward
    if f <= k[0] or f >= k[-1]:
        return float(straddle[np.argmin(np.abs(k - f))])
    return float(np.interp(f, k, straddle))


def risk_reversal_25d(p: PricedChain) -> tuple[float, float]:
    """(25-delta call IV, 25-delta put IV) on the fitted smile, forward deltas."""
    fit = p.fit
    if not fit.ok or p.t <= 0:
        return math.nan, math.nan
    return _rr25(fit.coef, fit.z_lo, fit.z_hi, fit.atm_vol, p.t)


@njit(cache=True)
def _rr25(coef, lo, hi, atm_vol, t):
    """Walk the fitted smile in moneyness; interpolate the vol where N(d1) crosses 0.75 and 0.25."""
    sd_atm = atm_vol * math.sqrt(t)
    c25 = p25 = math.nan
    prev_delta = prev_vol = math.nan
    for j in range(_Z.shape[0]):
        z = _Z[j]
        vol = spline_vol_scalar(z, coef, lo, hi)
        s = vol * math.sqrt(t)
        delta = norm_cdf(-z * sd_atm / s + 0.5 * s)  # falls as the strike rises
        if j > 0:
            for target in (0.75, 0.25):
                if prev_delta >= target > delta:
                    w = (prev_delta - target) / (prev_delta - delta)
                    v = prev_vol + w * (vol - prev_vol)
                    if target == 0.25:
                        c25 = v
                    else:
                        p25 = v  # put delta -0.25 is call delta 0.75
        prev_delta, prev_vol = delta, vol
    return c25, p25
