"""spread_blowout: a spread far wider than its neighbours' and its own recent history.

Both baselines must be exceeded: the neighbours (median spread of the two
strikes either side, same right) rule out chain-wide widening such as the last
minutes before the close, and the contract's own EW mean spread (time constant
``SPREAD_TAU`` seconds, fed winsorised at 2x) rules out strikes that are always
wide. Fires when the spread is at least ``spread_ratio`` x the larger baseline
and at least ``spread_min_ticks`` ticks. Score: the ratio. Severity: ratio
>= 6 high, >= 4 medium, but only as high as the spread matters to the price:
below ``SMALL_SHARE`` of the mid it is low, below ``MATERIAL_SHARE`` at most
medium (a deep in-the-money line whose 0.30 spread became 0.90 on a 15.00
option costs a trader little).
"""

from __future__ import annotations

import math

import numpy as np

from spyglass.contract import Chain
from spyglass.config import DetectorConfig
from spyglass.detect.finding import Finding, contract_label, r4, severity_from
from spyglass.detect.neighbours import neighbour_median
from spyglass.detect.state import ContractSeries

SPREAD_TAU = 120.0
MIN_HISTORY = 5
SMALL_SHARE = 0.05  # spread / mid below which a blowout is low severity
MATERIAL_SHARE = 0.15  # ... and below which it is at most medium


def spreads(chain: Chain, two_sided: np.ndarray) -> np.ndarray:
    return np.where(two_sided, chain.ask - chain.bid, np.nan)


def detect(chain: Chain, spread: np.ndarray, prev: ContractSeries, clean: np.ndarray, tick: float,
           cfg: DetectorConfig) -> list[Finding]:
    neighbours = neighbour_median(chain, spread, 2, include_self=False)
    own = prev["spread_mean"]
    base = np.fmax(neighbours, own)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = spread / base
        hit = (clean & (prev["spread_obs"] >= MIN_HISTORY) & (ratio >= cfg.spread_ratio)
               & (spread >= cfg.spread_min_ticks * tick - 1e-9) & (neighbours > 0))
    out = []
    for i in np.flatnonzero(hit):
        name = contract_label(bool(chain.is_call[i]), float(chain.strike[i]))
        share = float(spread[i] / (0.5 * (chain.bid[i] + chain.ask[i])))
        summary = (f"{name}: spread {spread[i]:.2f} ({chain.bid[i]:.2f} x {chain.ask[i]:.2f}) is {ratio[i]:.1f}x "
                   f"the wider of its neighbours' {neighbours[i]:.2f} and its own recent {own[i]:.2f}")
        out.append(Finding(
            "spread_blowout", "C" if chain.is_call[i] else "P", float(chain.strike[i]), float(ratio[i]),
            severity(float(ratio[i]), share), "spread_blowout.vs_neighbours_and_history", summary,
            numbers={"spread": r4(spread[i]), "bid": float(chain.bid[i]), "ask": float(chain.ask[i]),
                     "neighbour_spread": r4(neighbours[i]), "own_recent_spread": r4(own[i]), "ratio": r4(ratio[i]),
                     "spread_share_of_mid": r4(share)},
        ))
    return out


def severity(ratio: float, share: float) -> str:
    """By the ratio, capped by what the spread is worth against the price (see the module doc)."""
    by_ratio = severity_from(ratio, 4.0, 6.0)
    if share < SMALL_SHARE:
        return "low"
    if share < MATERIAL_SHARE and by_ratio == "high":
        return "medium"
    return by_ratio


def update(prev: ContractSeries, spread: np.ndarray, dt: float) -> dict[str, np.ndarray]:
    a = 1.0 - math.exp(-dt / SPREAD_TAU)
    mean, obs = prev["spread_mean"], prev["spread_obs"]
    seen = np.isfinite(spread)
    x = np.where(np.isfinite(mean), np.fmin(spread, 2.0 * mean), spread)
    new = np.where(seen, np.where(np.isfinite(mean), mean + a * (x - mean), spread), mean)
    return {"spread_mean": new, "spread_obs": obs + seen}
