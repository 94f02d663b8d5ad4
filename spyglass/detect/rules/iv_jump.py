"""iv_jump: a contract's residual to the smile moves between snapshots more than spot explains.

The residual is the contract's distance from the fitted smile (mid IV minus
fitted IV, and mid minus fair in dollars). The smile is refitted each
snapshot, so a chain-wide vol move is not a jump; a single contract re-marked
against its neighbours is. Only a move *away* from the smile is a jump: a line
coming back to it ends an event rather than starting one (otherwise a
re-marked quote that recovers would raise a reverse jump). A quote that
merely lagged the underlying changes its residual by about -delta x the spot
move: that much, in that direction, is explained and subtracted. Fires when
the unexplained dollar change exceeds ``iv_jump_half_spreads`` half-spreads
plus one tick (quote discreteness) and the IV change is at least
``iv_jump_vol_points`` (in the last minutes, where IV is ill-conditioned, the
dollar test alone decides); both thresholds rise in the last two hours, by a
third of what mispricing's do (``mispricing.late_factor``: the refitted smile
wobbles more as the close nears). Score: vol points (half-spreads near
the close).
Severity: 2x the threshold medium, 3x high.
"""

from __future__ import annotations

import numpy as np

from spyglass.analytics.pricing import PricedChain
from spyglass.config import DetectorConfig
from spyglass.detect.finding import Finding, contract_label, r4, severity_from
from spyglass.detect.rules.mispricing import late_factor
from spyglass.detect.state import ContractSeries


def residuals(p: PricedChain, clean: np.ndarray, cfg: DetectorConfig) -> tuple[np.ndarray, np.ndarray]:
    """(vol residual, dollar residual) where they can be trusted, NaN elsewhere."""
    ok = clean & p.two_sided & (p.mid >= cfg.min_price) & np.isfinite(p.fair)
    return np.where(ok, p.mid_iv - p.fitted_iv, np.nan), np.where(ok, p.mid - p.fair, np.nan)


def _away(size: np.ndarray, change: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The part of a residual change of ``size`` that moves away from the smile: toward it, the first
    |before| of the way is a return."""
    toward = change * before < 0
    return size - np.where(toward, np.fmin(np.abs(before), size), 0.0)


def detect(p: PricedChain, res_vol: np.ndarray, res_price: np.ndarray, prev: ContractSeries, spot_move: float,
           cfg: DetectorConfig) -> list[Finding]:
    if not p.fit.ok:
        return []
    ch = p.chain
    with np.errstate(invalid="ignore"):
        d_vol = res_vol - prev["residual_vol"]
        d_price = res_price - prev["residual_price"]
        # a quote that lagged the spot changes its residual by -delta x spot move: that much,
        # in that direction only, is explained
        lag = -p.greeks.delta * spot_move
        explained = np.where(d_price * lag > 0, np.fmin(np.abs(lag), np.abs(d_price)), 0.0)
        # coming back to the smile ends an event: a move toward it counts only beyond the way back
        unexplained = _away(np.abs(d_price) - explained, d_price, prev["residual_price"])
        vol_away = _away(np.abs(d_vol), d_vol, prev["residual_vol"])
        # one tick of allowance: a mid on the tick grid moves a tick as fair value drifts through it; stricter as
        # the close nears, where the refitted smile itself wobbles (as for mispricing)
        late = 1.0 + (late_factor(p.minutes_to_close) - 1.0) / 3.0  # a jump is larger news than a small edge
        hit = unexplained > late * cfg.iv_jump_half_spreads * p.half_spread + p.spec.tick
        if not p.near_close:
            hit &= vol_away * 100 >= late * cfg.iv_jump_vol_points
    out = []
    for i in np.flatnonzero(hit):
        name = contract_label(bool(ch.is_call[i]), float(ch.strike[i]))
        hs_units = float(unexplained[i] / p.half_spread[i])
        if p.near_close:
            score, threshold = hs_units, cfg.iv_jump_half_spreads
            what = (f"moved {d_price[i]:+.2f} against the fitted smile, {hs_units:.1f} half-spreads beyond what the "
                    f"{spot_move:+.2f} spot move explains (price space: IV unreliable near the close)")
        else:
            score, threshold = abs(float(d_vol[i])) * 100, cfg.iv_jump_vol_points
            what = (f"IV jumped {d_vol[i] * 100:+.1f} vol pts against the fitted smile (now {res_vol[i] * 100:+.1f} "
                    f"vs {prev['residual_vol'][i] * 100:+.1f}); {d_price[i]:+.2f} in price, {hs_units:.1f} "
                    f"half-spreads beyond the {spot_move:+.2f} spot move")
        out.append(Finding(
            "iv_jump", "C" if ch.is_call[i] else "P", float(ch.strike[i]), score,
            severity_from(score / threshold, 2.0, 3.0), "iv_jump.residual_change", f"{name}: {what}",
            numbers={"residual_vol_points": r4(res_vol[i] * 100), "previous_residual_vol_points":
                     r4(prev["residual_vol"][i] * 100), "change_vol_points": r4(d_vol[i] * 100),
                     "change_price": r4(d_price[i]), "explained_by_spot": r4(explained[i]),
                     "spot_move": r4(spot_move), "fit_space": p.fit.space,
                     "direction_key": "up" if d_price[i] > 0 else "down"},
        ))
    return out
