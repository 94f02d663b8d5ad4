"""Data quality of one snapshot, graded and explained: shown beside every anomaly.

About a third of a 0DTE chain is one-sided at any moment, so one-sidedness
near the money is what is graded, not across the wings.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from spyglass.analytics.pricing import PricedChain


def grade(p: PricedChain, bad: np.ndarray, frozen: np.ndarray | None = None, outlier: np.ndarray | None = None
          ) -> dict[str, Any]:
    ch = p.chain
    band = 2.0 * (p.fit.atm_vol if p.fit.ok else 0.2) * math.sqrt(max(p.t, 1e-9))
    with np.errstate(invalid="ignore", divide="ignore"):
        near = np.abs(np.log(ch.strike / p.forward.forward)) <= max(band, 0.002)
    share = float(p.two_sided[near].mean()) if near.any() else 0.0
    notes = []
    if p.snapshot.delayed:
        notes.append("delayed market data")
    if bad.any():
        notes.append(f"{int(bad.sum())} contract(s) with data errors excluded")
    if frozen is not None and frozen.any():
        notes.append(f"{int(frozen.sum())} stale quote(s) excluded: not updated while the market moved")
    if outlier is not None and outlier.any():
        notes.append(f"{int(outlier.sum())} outlier quote(s) excluded: far from what their neighbours imply")
    if p.forward.dropped:
        notes.append(f"{p.forward.dropped} call/put pair(s) left out of the forward: they disagreed with spot and "
                     "the other pairs")
    if p.forward.method != "parity":
        notes.append("forward from the carry model: no two-sided call/put pairs near the money")
    if p.fit.method in ("line", "flat"):
        notes.append(f"too few two-sided quotes for a full smile: fitted a {p.fit.method} in moneyness")
    elif not p.fit.ok:
        notes.append("no smile fit: no usable quotes")
    if p.near_close:
        notes.append(f"{p.minutes_to_close:.0f} min to the close: fair values from a price-space fit")
    if not p.fit.ok or share < 0.5:
        g = "poor"
    elif (share < 0.8 or bad.any() or p.snapshot.delayed or p.fit.method != "spline"
          or any(m is not None and m.any() for m in (frozen, outlier))):
        g = "degraded"
    else:
        g = "good"
    return {"grade": g, "two_sided_share": round(share, 3), "notes": notes}
