"""smile_shift (a chain-level ``iv_jump``): the whole smile repriced at once.

A gap in spot with the at-the-money vol jumping by a third is one market
event, not a line-by-line story: the smile is refitted every snapshot, so
the single-line rules rightly see nothing, and this rule says what happened.
Two readings must agree, so that neither a fit that wobbles nor one line
re-marked at the money can fake it:

- **the level**: the at-the-money vol read from the quotes
  (``analytics.smile.atm_level``: the two strikes around the forward, each
  call/put pair merged through parity) must sit at least
  ``smile_shift_vol_points`` and ``smile_shift_relative`` of the level away
  from the median of the last ``HISTORY`` snapshots;
- **the lines**: the trusted two-sided lines near the money (within
  ``NEAR_SD`` standard deviations of the forward), priced against the
  previous snapshot's smile at their moneyness now (the smile moves with the
  forward), must sit off it the same way: at least ``AGREE`` of them, by a
  median of at least half the threshold. One re-marked line cannot move that
  median, and lines that lag the jump are frozen and left out.

Outside the last ``near_close_minutes``. Reported as an ``iv_jump`` with no
contract (rule ``iv_jump.smile_shift``), so anomaly/1's types are unchanged.
Score: the change in vol points. Severity: 2x the threshold medium, 3x high.
"""

from __future__ import annotations

import math

import numpy as np

from spyglass.analytics.pricing import PricedChain
from spyglass.analytics.smile import spline_vol
from spyglass.config import DetectorConfig
from spyglass.detect.finding import Finding, r4, severity_from

HISTORY = 12
NEAR_SD = 1.5
MIN_LINES = 3
AGREE = 0.75


def levels(p: PricedChain, history: list[float]) -> list[float]:
    """The level history with this snapshot's at-the-money vol (from the quotes) appended."""
    return [*history, float(p.fit.atm_vol) if p.fit.ok else math.nan][-HISTORY:]


def detect(p: PricedChain, levels: list[float], judged: np.ndarray, prior: dict | None, spot_move: float,
           cfg: DetectorConfig) -> list[Finding]:
    """``levels``: the history including this snapshot (``levels``); ``prior``: the previous smile."""
    before = [x for x in levels[:-1] if math.isfinite(x)]
    now = levels[-1]
    if p.near_close or p.t <= 0 or prior is None or len(before) < 3 or not math.isfinite(now):
        return []
    base = float(np.median(before))
    change = now - base
    if not (abs(change) * 100 >= cfg.smile_shift_vol_points and abs(change) >= cfg.smile_shift_relative * base):
        return []
    lines, agree, line_move = _lines(p, judged, prior)
    if not (lines >= MIN_LINES and agree >= AGREE and line_move * change > 0
            and abs(line_move) * 100 >= 0.5 * cfg.smile_shift_vol_points):
        return []
    score = abs(change) * 100
    way = "up" if change > 0 else "down"
    summary = (f"the smile repriced: at-the-money vol {base * 100:.1f} -> {now * 100:.1f} ({change * 100:+.1f} vol "
               f"pts, {change / base:+.0%}); {agree:.0%} of {lines} lines near the money moved the same way "
               f"(median {line_move * 100:+.1f}); spot {spot_move:+.2f} since the last snapshot; one chain event")
    return [Finding("iv_jump", None, None, score, severity_from(score / cfg.smile_shift_vol_points, 2.0, 3.0),
                    "iv_jump.smile_shift", summary,
                    numbers={"event": "smile_shift", "atm_vol_before": r4(base), "atm_vol_after": r4(now),
                             "change_vol_points": r4(change * 100), "lines": lines, "agree": r4(agree),
                             "line_median_vol_points": r4(line_move * 100), "spot_move": r4(spot_move),
                             "direction_key": f"smile_{way}"})]


def _lines(p: PricedChain, judged: np.ndarray, prior: dict) -> tuple[int, float, float]:
    """(lines, share moving the median's way, median) of near-the-money mid vols minus the previous smile's vol
    at the same moneyness."""
    k = p.chain.strike
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.log(k / p.forward.forward)
        near = np.abs(m) <= NEAR_SD * p.fit.atm_vol * math.sqrt(p.t) if p.fit.ok else np.zeros(k.size, bool)
        ok = judged & p.two_sided & near & np.isfinite(p.mid_iv)
    if not ok.any():
        return 0, 0.0, 0.0
    was = spline_vol(m[ok] / (prior["atm_vol"] * math.sqrt(prior["t"])), np.asarray(prior["coef"], dtype=np.float64),
                     prior["z_lo"], prior["z_hi"])
    moves = p.mid_iv[ok] - was
    median = float(np.median(moves))
    return int(ok.sum()), float(np.mean(np.sign(moves) == np.sign(median))), median
