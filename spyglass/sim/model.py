"""The simulator's generating model: smile, its intraday drift, spreads and volume shape.

Smile, in standardised moneyness ``z = ln(K/F) / (atm_vol * sqrt(t))``::

    vol(z) = atm_vol * m(z),   u = tanh(z / 2)
    m(z)   = 1 - skew*u + curvature*u^2 + put_boost*softplus(-u)

(``softplus`` a smoothed max(., 0), so the late put boost has no kink at the money.)

``skew`` is solved so that the 25-delta risk reversal (call IV minus put IV)
equals the configured ``rr25`` (about -3 vol points); ``put_boost`` ramps up in
the last hour of third Thursdays and Fridays to reach the configured late risk
reversal 15 minutes before the close. Because the smile lives in z, its shape
is the same all day while the strikes it spans collapse toward the money.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from spyglass.sim.config import SPY_LIQUIDITY, Liquidity

_Z25 = 0.6744897501960817  # N^-1(0.75)
MIN_MULTIPLIER = 0.25


def smile_multiplier(z: np.ndarray | float, skew: float, curvature: float, put_boost: float = 0.0):
    u = np.tanh(np.asarray(z, dtype=float) / 2.0)
    m = 1.0 - skew * u + curvature * u * u + put_boost * 0.5 * (np.sqrt(u * u + 0.01) - u - 0.1)
    return np.maximum(m, MIN_MULTIPLIER)


def _delta_z(sign: float, skew: float, curvature: float, put_boost: float) -> float:
    """z of the 25-delta call (sign=+1) or put (sign=-1): |d1| = z/m(z) = N^-1(0.75)."""
    z = sign * _Z25
    for _ in range(60):
        z_new = sign * _Z25 * float(smile_multiplier(z, skew, curvature, put_boost))
        if abs(z_new - z) < 1e-12:
            break
        z = z_new
    return z


def rr25_multiplier(skew: float, curvature: float, put_boost: float = 0.0) -> float:
    """25-delta risk reversal in units of the ATM vol (0DTE limit: sigma*sqrt(t) -> 0)."""
    zc = _delta_z(1.0, skew, curvature, put_boost)
    zp = _delta_z(-1.0, skew, curvature, put_boost)
    return float(smile_multiplier(zc, skew, curvature, put_boost) - smile_multiplier(zp, skew, curvature, put_boost))


def _bisect(f, lo: float, hi: float, target: float) -> float:
    """Root of f(x) = target for f decreasing on [lo, hi] (clamped to the ends)."""
    if f(lo) <= target:
        return lo
    if f(hi) >= target:
        return hi
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def solve_skew(rr25: float, atm_vol: float, curvature: float) -> float:
    """Skew coefficient that gives risk reversal ``rr25`` (vol units) at ``atm_vol``."""
    return _bisect(lambda k: rr25_multiplier(k, curvature), 0.0, 1.5, rr25 / atm_vol)


def solve_put_boost(rr25: float, atm_vol: float, skew: float, curvature: float) -> float:
    """Extra put-wing steepness that takes the risk reversal to ``rr25``."""
    return _bisect(lambda b: rr25_multiplier(skew, curvature, b), 0.0, 20.0, rr25 / atm_vol)


def is_third_weekday(day: date, weekday: int) -> bool:
    return day.weekday() == weekday and 15 <= day.day <= 21


def late_rr25(day: date, cfg_rr_third_thursday: float, cfg_rr_friday: float) -> float | None:
    """The late-day risk reversal target for ``day``, or None on an ordinary day."""
    if is_third_weekday(day, 3):
        return cfg_rr_third_thursday
    if day.weekday() == 4:
        return cfg_rr_friday
    return None


def late_ramp(minutes_to_close: float) -> float:
    """0 until an hour before the close, 1 from 15 minutes before, linear between."""
    return float(np.clip((60.0 - minutes_to_close) / 45.0, 0.0, 1.0))


@dataclass(frozen=True)
class SmoothPath:
    """A smooth random curve on [0, 1]: a few low-frequency sines (no per-tick noise)."""

    amplitudes: tuple[float, ...]
    phases: tuple[float, ...]

    @classmethod
    def draw(cls, rng: np.random.Generator, size: float, harmonics: int = 3) -> SmoothPath:
        amps = tuple(float(rng.normal(0.0, size / (j + 1))) for j in range(harmonics))
        phases = tuple(float(rng.uniform(0.0, 2 * math.pi)) for _ in range(harmonics))
        return cls(amps, phases)

    def __call__(self, x: float) -> float:
        v = 0.0
        for j, (a, p) in enumerate(zip(self.amplitudes, self.phases)):
            v += a * (math.sin(math.pi * (j + 1) * x + p) - math.sin(p))
        return v


def intraday_volume_shape(frac_of_session: float) -> float:
    """U-shaped intensity, mean 1 over the session: heavy open and close, quiet lunch."""
    x = 2.0 * min(max(frac_of_session, 0.0), 1.0) - 1.0
    return (1.0 + 2.0 * x * x) / (1.0 + 2.0 / 3.0)


def intraday_volume_share(frac_of_session: float) -> float:
    """Integral of ``intraday_volume_shape`` from the open: the share of the day's volume done by then."""
    f = min(max(frac_of_session, 0.0), 1.0)
    return (f + 2.0 * ((2.0 * f - 1.0) ** 3 + 1.0) / 6.0) / (1.0 + 2.0 / 3.0)


def close_spread_fraction(minutes_to_close: float) -> float:
    """Spread as a fraction of premium near the close: 0 until 20 min out, 5.8% from 5 min out."""
    return 0.058 * float(np.clip((20.0 - minutes_to_close) / 15.0, 0.0, 1.0))


def spread_ticks(premium: np.ndarray, tick: float, minutes_to_close: float, wide: np.ndarray,
                 liquidity: Liquidity = SPY_LIQUIDITY) -> np.ndarray:
    """Quoted width in whole ticks: max(1 tick, 1c + 1.5% of premium), ~6% of premium (up to $5) at the close.

    (1c and 1.5% are SPY's; another underlying's ``liquidity`` has its own.)
    """
    late = close_spread_fraction(minutes_to_close) * np.minimum(premium, 5.0)
    raw = np.maximum(liquidity.spread_base + liquidity.spread_pct * premium, late)
    w = np.maximum(np.floor(raw / tick + 0.2), 1.0)  # rounded, ties and a bit above toward the tighter quote
    return (w + wide).astype(np.int64)


def quote_ticks(fair: np.ndarray, width: np.ndarray, noise: np.ndarray, tick: float) -> tuple[np.ndarray, np.ndarray]:
    """Bid/ask in integer ticks of ``width`` around fair + noise, always bracketing fair.

    The bid is rounded down and the ask up; the noise only chooses where, inside
    the quote, fair sits. A bid at or below zero means no bid.
    """
    f = fair / tick
    fl = np.floor(f)
    centre = f + noise * 0.2 * width
    bid = np.floor(centre - (width - 1) / 2.0)
    bid = np.clip(bid, fl - width + 1, fl)
    bid = bid.astype(np.int64)
    return bid, bid + width
