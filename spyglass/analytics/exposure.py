"""Dealer gamma exposure (GEX) by strike and the zero-gamma level(s).

Convention (stated because tools disagree): GEX is in dollars of delta-hedge
flow per 1% move of the underlying, ``gamma * OI * multiplier * S^2 * 0.01``,
counted positive for calls and negative for puts. That is the usual dealer-side
assumption: customers are net long puts and net short calls, so dealers are
long call gamma and short put gamma. Positive total GEX means dealer hedging
damps moves; negative means it amplifies them.

Open interest is last night's OCC figure: for 0DTE it misses everything opened
today, so these numbers describe the book as of the open, not now.

Zero gamma is found the correct way: the whole book is re-priced across a grid
of spot levels (vols sticky by strike, time fixed) and every sign change of the
total is located, so several roots are reported when they exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from spyglass.analytics.black import black_gamma_scalar


@njit(cache=True)
def _total_gex(spot, carry, strike, t, rate, vol, sign_oi, multiplier) -> float:
    forward = spot * carry
    total = 0.0
    for i in range(strike.shape[0]):
        if sign_oi[i] == 0.0 or not math.isfinite(vol[i]):
            continue
        total += sign_oi[i] * black_gamma_scalar(spot, forward, strike[i], t, rate, vol[i])
    return total * multiplier * spot * spot * 0.01


@njit(cache=True)
def gex_profile(spots, carry, strike, t, rate, vol, sign_oi, multiplier) -> np.ndarray:
    out = np.empty(spots.shape[0])
    for j in range(spots.shape[0]):
        out[j] = _total_gex(spots[j], carry, strike, t, rate, vol, sign_oi, multiplier)
    return out


@njit(cache=True)
def _refine_root(lo, hi, glo, ghi, carry, strike, t, rate, vol, sign_oi, multiplier) -> float:
    """Two regula-falsi steps inside a grid bracket: sub-cent accuracy for two re-pricings."""
    for _ in range(2):
        x = lo - glo * (hi - lo) / (ghi - glo)
        gx = _total_gex(x, carry, strike, t, rate, vol, sign_oi, multiplier)
        if gx == 0.0:
            return x
        if (gx > 0.0) == (glo > 0.0):
            lo, glo = x, gx
        else:
            hi, ghi = x, gx
    return lo - glo * (hi - lo) / (ghi - glo)


@dataclass(frozen=True, slots=True)
class Exposure:
    strikes: np.ndarray  # unique strikes, ascending
    gex_by_strike: np.ndarray  # dollars per 1% move at the current spot
    total: float
    zero_gamma: tuple[float, ...]  # every spot level where total GEX changes sign


def gamma_exposure(
    spot: float,
    forward: float,
    strike: np.ndarray,
    is_call: np.ndarray,
    open_interest: np.ndarray,
    vol: np.ndarray,
    gamma: np.ndarray,
    t: float,
    rate: float,
    multiplier: float,
    span: float = 0.04,
    grid: int = 41,
) -> Exposure:
    if t <= 0 or not np.isfinite(spot):
        return Exposure(np.unique(strike), np.zeros(np.unique(strike).size), 0.0, ())
    oi = np.nan_to_num(open_interest, nan=0.0)
    sign_oi = np.where(is_call, oi, -oi)
    carry = forward / spot
    contrib = sign_oi * np.nan_to_num(gamma) * multiplier * spot * spot * 0.01
    strikes, inverse = np.unique(strike, return_inverse=True)
    by_strike = np.bincount(inverse, weights=contrib, minlength=strikes.size)
    spots = spot * np.linspace(1.0 - span, 1.0 + span, grid)
    profile = gex_profile(spots, carry, strike, t, rate, vol, sign_oi, multiplier)
    roots = []
    for j in range(grid - 1):
        a, b = profile[j], profile[j + 1]
        if a == 0.0:
            roots.append(float(spots[j]))
        elif (a > 0) != (b > 0) and b != 0.0:
            roots.append(_refine_root(spots[j], spots[j + 1], a, b, carry, strike, t, rate, vol, sign_oi, multiplier))
    return Exposure(strikes, by_strike, float(by_strike.sum()), tuple(float(r) for r in roots))
