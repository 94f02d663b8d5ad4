"""smile_shift (a chain-level ``iv_jump``): the whole smile repriced at once.

A gap in spot with the at-the-money vol jumping by a third is one market
event, not a line-by-line story: the smile is refitted every snapshot, so
the single-line rules rightly see nothing, and this rule says what happened.
Fires when the fitted smile's vol at the forward (the spline, which every
quote near the money carries, not the two-strike ATM estimate) moved by at
least ``smile_shift_vol_points`` and ``smile_shift_relative`` of its level
since the previous snapshot, with the fit holding (weighted RMS within 2.5
half-spreads), outside the last ``near_close_minutes``. Reported as an
``iv_jump`` with no contract (rule ``iv_jump.smile_shift``), so anomaly/1's
types are unchanged. Score: the change in vol points. Severity: 2x the
threshold medium, 3x high.
"""

from __future__ import annotations

import math

import numpy as np

from spyglass.analytics.pricing import PricedChain
from spyglass.analytics.smile import spline_vol
from spyglass.config import DetectorConfig
from spyglass.detect.finding import Finding, r4, severity_from


def detect(p: PricedChain, prior: dict | None, spot_move: float, cfg: DetectorConfig) -> list[Finding]:
    fit = p.fit
    if prior is None or not fit.ok or not (fit.rms_half_spreads <= 2.5) or p.near_close:
        return []
    before = float(spline_vol(np.zeros(1), np.asarray(prior["coef"], dtype=np.float64), prior["z_lo"], prior["z_hi"])[0])
    after = float(spline_vol(np.zeros(1), fit.coef, fit.z_lo, fit.z_hi)[0])
    change = after - before
    if not (math.isfinite(change) and abs(change) * 100 >= cfg.smile_shift_vol_points
            and abs(change) >= cfg.smile_shift_relative * before):
        return []
    score = abs(change) * 100
    way = "up" if change > 0 else "down"
    summary = (f"the smile repriced: ATM vol {before * 100:.1f} -> {after * 100:.1f} ({change * 100:+.1f} vol pts, "
               f"{change / before:+.0%}) in one snapshot, spot {spot_move:+.2f}; one chain event")
    return [Finding("iv_jump", None, None, score, severity_from(score / cfg.smile_shift_vol_points, 2.0, 3.0),
                    "iv_jump.smile_shift", summary,
                    numbers={"event": "smile_shift", "atm_vol_before": r4(before), "atm_vol_after": r4(after),
                             "change_vol_points": r4(change * 100), "spot_move": r4(spot_move),
                             "direction_key": f"smile_{way}"})]
