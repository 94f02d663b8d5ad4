"""Real vendor chains: the engine stays quiet and sane on quotes no one here wrote.

The chains (Schwab, Tradier, TD Ameritrade, Yahoo; see their README) live outside the
repository in ``../shared/data/real-chains`` or wherever ``SPYGLASS_REAL_CHAINS`` points;
a fresh machine (CI) has none, and these tests then skip, saying where they looked.

Each chain is one snapshot, scored as a first snapshot by ``Scorer``; its numbers are read
from ``price_chain``, checked to be the very ones the scorer published. Per chain:
- no market anomaly (data errors are allowed: the vendors' spots are stale, see the README);
- bid, ask and mid implied vols within 0.01 vol points of QuantLib's Black-76 solve at the
  same forward, discount and time to the close;
- near the money the fitted smile lies between the bid and the ask IV, to within a tick;
  out of the money, wherever the smile is quoted, to within a tick as well.
Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import math
import os
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import QuantLib as ql

from spyglass.analytics.pricing import PricedChain, price_chain
from spyglass.config import DetectorConfig, underlying_spec
from spyglass.contract import Snapshot
from spyglass.detect.scorer import Scorer, ScoreResult

REPO = Path(__file__).resolve().parents[2]
CHAINS = Path(os.environ.get("SPYGLASS_REAL_CHAINS") or REPO.parent / "shared" / "data" / "real-chains")
FILES = sorted(CHAINS.glob("*.jsonl")) if CHAINS.is_dir() else []
chains = pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.stem) for p in FILES]
    or [pytest.param(None, marks=pytest.mark.skip(reason=f"no real chains in {CHAINS} (set SPYGLASS_REAL_CHAINS)"))],
)

IV_TOLERANCE = 1e-4  # 0.01 vol points
# "near the money": within 1.5 standard deviations of the move to the close (ATM vol x sqrt(t)) in ln(K/F):
# the strikes that set the ATM level and the expected move, where vols are well conditioned
NEAR_SD = 1.5
# The deep put wing of the Tradier chain that was once fitted 0.1 to 0.6 vol points above the ask
WINGS = {"tradier_spxw_2026-02-06_exp0209": (6495.0, 6610.0)}


@cache
def scored(path: Path) -> tuple[Snapshot, ScoreResult, PricedChain]:
    snapshot = Snapshot.from_json(path.read_bytes())
    result = Scorer().score(snapshot)
    assert result.scored, result.anomalies
    p = price_chain(snapshot, underlying_spec(snapshot.underlying), DetectorConfig())
    # the numbers checked below are the scorer's own: same forward, same fitted smile
    a = result.analytics
    assert a["forward"] == pytest.approx(p.forward.forward, abs=1e-4)
    assert a["t_years"] == p.t and a["rate"] == p.rate
    published = np.asarray(a["contracts"]["fitted_iv"], dtype=np.float64)
    assert np.array_equal(np.isnan(published), np.isnan(p.fitted_iv))
    assert np.nanmax(np.abs(published - p.fitted_iv)) <= 0.5e-4 + 1e-12  # published rounded to 4 places
    return snapshot, result, p


def ql_vol(price: float, strike: float, is_call: bool, p: PricedChain) -> float:
    """QuantLib's Black-76 implied vol at the priced chain's forward, discount and time; NaN where none exists."""
    if not (price > 0):
        return math.nan
    kind = ql.Option.Call if is_call else ql.Option.Put
    try:
        sd = ql.blackFormulaImpliedStdDev(kind, strike, p.forward.forward, price, p.discount, 0.0, ql.nullDouble(),
                                          1e-12, 1000)
    except RuntimeError:  # below intrinsic value, above the bound: no vol
        return math.nan
    return sd / math.sqrt(p.t)


def black_vega(p: PricedChain, strike: np.ndarray, vol: np.ndarray) -> np.ndarray:
    """Discounted Black-76 vega per unit of vol, written out here rather than taken from the engine."""
    s = vol * math.sqrt(p.t)
    d1 = np.log(p.forward.forward / strike) / s + 0.5 * s
    return p.discount * p.forward.forward * np.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi) * math.sqrt(p.t)


def excursion(inside: np.ndarray) -> str:
    m = float(inside.min()) * 100
    return f"nearest edge {m:.3f} vol points inside" if m >= 0 else f"worst {-m:.3f} vol points outside"


def band(p: PricedChain, tick: float) -> tuple[np.ndarray, np.ndarray]:
    """How far inside the bid/ask IV band the fitted vol sits (its distance to the nearer edge, negative outside),
    and one tick of price in vol, per line.

    A tick is the tolerance: quotes sit on the tick grid, and a smooth smile cannot follow each line's rounding
    to it (a one-tick-wide quote's mid moves by half a tick with the rounding alone); no rule acts on less than a
    tick. It is the underlying spec's tick (0.01), tighter than the SPX's own 0.05.
    """
    ch = p.chain
    with np.errstate(invalid="ignore"):
        return np.minimum(p.fitted_iv - p.bid_iv, p.ask_iv - p.fitted_iv), tick / black_vega(p, ch.strike, p.fitted_iv)


@chains
def test_no_market_anomalies(path):
    snapshot, result, _ = scored(path)
    errors = [f"{a.evidence.get('rule')}: {a.evidence['summary']}" for a in result.anomalies
              if a.types == ("data_error",)]
    market = [f"{'/'.join(a.types)} {a.right} {a.strike}: {a.evidence['summary']}" for a in result.anomalies
              if set(a.types) != {"data_error"}]
    print(f"\n{path.stem}: {len(snapshot.chain)} contracts, data errors (allowed): {errors or 'none'}")
    assert not market, f"market anomalies on a real chain: {market}; data errors: {errors}"


@chains
def test_implied_vols_match_an_independent_solve(path):
    snapshot, _, p = scored(path)
    ch = snapshot.chain
    compared, worst, where, one_sided = 0, 0.0, "", []
    for side, prices, ours in (("bid", ch.bid, p.bid_iv), ("ask", ch.ask, p.ask_iv), ("mid", p.mid, p.mid_iv)):
        for i in np.flatnonzero(p.two_sided):
            theirs = ql_vol(float(prices[i]), float(ch.strike[i]), bool(ch.is_call[i]), p)
            if math.isfinite(theirs) != math.isfinite(ours[i]):
                one_sided.append(f"{side} {ch.right[i]} {ch.strike[i]} {prices[i]}: ours {ours[i]}, QuantLib {theirs}")
            elif math.isfinite(theirs):
                compared += 1
                diff = abs(theirs - ours[i])
                if diff > worst:
                    worst, where = diff, f"{side} {ch.right[i]} {ch.strike[i]}"
    print(f"\n{path.stem}: {compared} IVs compared with QuantLib, max difference {worst * 100:.2e} vol points "
          f"({where})")
    assert compared >= len(ch) // 2
    assert not one_sided, one_sided  # a vol only one solver finds is a disagreement too
    assert worst <= IV_TOLERANCE, where


@chains
def test_the_fitted_smile_is_inside_bid_ask_near_the_money(path):
    snapshot, _, p = scored(path)
    ch, fit = snapshot.chain, p.fit
    assert fit.ok and fit.arbitrage_free
    inside, tick_vol = band(p, underlying_spec(snapshot.underlying).tick)
    near = (np.abs(np.log(ch.strike / p.forward.forward)) <= NEAR_SD * fit.atm_vol * math.sqrt(p.t)) & p.usable \
        & np.isfinite(p.bid_iv) & np.isfinite(p.ask_iv)
    strictly = float(np.mean(inside[near] >= 0))
    print(f"\n{path.stem}: {near.sum()} lines near the money, {strictly:.0%} strictly inside bid/ask, "
          f"{excursion(inside[near])} (a tick there is at least "
          f"{tick_vol[near].min() * 100:.3f})")
    assert near.sum() >= 10
    outside = near & (inside < -tick_vol)
    assert not outside.any(), [f"{ch.right[i]} {ch.strike[i]}: fit {p.fitted_iv[i]:.4f}, bid {p.bid_iv[i]:.4f}, "
                               f"ask {p.ask_iv[i]:.4f}" for i in np.flatnonzero(outside)]


@chains
def test_the_fitted_smile_stays_inside_bid_ask_out_in_the_wings(path):
    """Every quoted out-of-the-money line, the wings included: the wing of the smile is fitted where it is priced."""
    snapshot, _, p = scored(path)
    ch = snapshot.chain
    inside, tick_vol = band(p, underlying_spec(snapshot.underlying).tick)
    with np.errstate(invalid="ignore"):
        otm = np.where(ch.is_call, ch.strike >= p.forward.forward, ch.strike <= p.forward.forward)
    quoted = otm & p.usable & np.isfinite(p.bid_iv) & np.isfinite(p.ask_iv)
    print(f"\n{path.stem}: {quoted.sum()} out-of-the-money lines, {np.mean(inside[quoted] >= 0):.0%} strictly inside "
          f"bid/ask, {excursion(inside[quoted])}")
    outside = quoted & (inside < -tick_vol)
    assert not outside.any(), [f"{ch.right[i]} {ch.strike[i]}: fit {p.fitted_iv[i]:.4f}, bid {p.bid_iv[i]:.4f}, "
                               f"ask {p.ask_iv[i]:.4f}" for i in np.flatnonzero(outside)]
    if path.stem in WINGS:
        lo, hi = WINGS[path.stem]
        wing = quoted & (ch.strike >= lo) & (ch.strike <= hi)
        above_ask = (p.fitted_iv - p.ask_iv)[wing]
        print(f"  wing {lo:.0f}-{hi:.0f}: {wing.sum()} lines, fit minus ask {above_ask.min() * 100:+.2f} to "
              f"{above_ask.max() * 100:+.2f} vol points")
        assert wing.sum() >= 20 and np.all(inside[wing] >= 0)
