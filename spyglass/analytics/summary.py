"""Per-snapshot chain analytics (``chain-analytics/1``): what the dashboard draws.

ATM IV, the expected move to the close from the ATM straddle, the 25-delta
risk reversal on the fitted smile, GEX by strike with every zero-gamma level,
the fit's diagnostics and, per contract, bid/ask/mid IVs and the fitted IV,
enough to redraw this snapshot's smile later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from numba import njit

from spyglass.analytics.black import norm_cdf
from spyglass.analytics.exposure import Exposure
from spyglass.analytics.pairs import call_put_pairs
from spyglass.analytics.pricing import PricedChain
from spyglass.analytics.smile import spline_vol_scalar
from spyglass.contract import iso_ms
from spyglass.detect.finding import r4

ANALYTICS_SCHEMA = "chain-analytics/1"
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


@dataclass(frozen=True, slots=True)
class ChainAnalytics:
    """Analytics of one snapshot; numpy columns stay arrays until serialised (NaN becomes null)."""

    fields: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def to_json(self) -> bytes:
        return orjson.dumps(self.fields, option=orjson.OPT_SERIALIZE_NUMPY)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only."""
        return orjson.loads(self.to_json())


def _col(x: np.ndarray) -> np.ndarray:
    return np.round(x, 4)


def summarize(p: PricedChain, exposure: Exposure, data_quality: dict[str, Any]) -> ChainAnalytics:
    snap, ch, fit = p.snapshot, p.chain, p.fit
    em = expected_move(p)
    c25, p25 = risk_reversal_25d(p)
    return ChainAnalytics({
        "schema": ANALYTICS_SCHEMA,
        "underlying": snap.underlying,
        "expiry": snap.expiry.isoformat(),
        "ts": iso_ms(snap.ts),
        "seq": snap.seq,
        "spot": snap.spot,
        "forward": r4(p.forward.forward),
        "forward_method": p.forward.method,
        "forward_pairs": p.forward.pairs,
        "t_years": p.t,
        "minutes_to_close": r4(p.minutes_to_close),
        "rate": p.rate,
        "atm_iv": r4(fit.atm_vol),
        "expected_move": r4(em),
        "expected_move_pct": r4(em / snap.spot * 100) if em == em else None,
        "expected_move_1sd": r4(snap.spot * fit.atm_vol * math.sqrt(max(p.t, 0.0))) if fit.ok else None,
        "iv_25d_call": r4(c25),
        "iv_25d_put": r4(p25),
        "rr25_vol_points": r4((c25 - p25) * 100),
        "fit": {
            "method": fit.method, "space": fit.space, "points": fit.points,
            "rms_half_spreads": r4(fit.rms_half_spreads), "arbitrage_free": fit.arbitrage_free,
            "atm_vol": r4(fit.atm_vol), "z_range": [r4(fit.z_lo), r4(fit.z_hi)],
            "coef": _col(fit.coef),
        },
        "gex": {
            "units": "USD per 1% move; calls +, puts - (dealers long calls, short puts); OI is last night's",
            "total": r4(exposure.total),
            "strikes": exposure.strikes,
            "by_strike": _col(exposure.gex_by_strike),
            "zero_gamma": [r4(x) for x in exposure.zero_gamma],
        },
        "data_quality": data_quality,
        "contracts": {
            "right": "".join("C" if c else "P" for c in ch.is_call),
            "strike": ch.strike,
            "bid": ch.bid,
            "ask": ch.ask,
            "bid_iv": _col(p.bid_iv),
            "ask_iv": _col(p.ask_iv),
            "mid_iv": _col(p.mid_iv),
            "fitted_iv": _col(p.fitted_iv),
            "fair": _col(p.fair),
        },
    })
