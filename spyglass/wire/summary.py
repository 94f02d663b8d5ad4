"""Per-snapshot chain analytics (``chain-analytics/1``): what the dashboard draws.

ATM IV, the expected move to the close from the ATM straddle, the 25-delta
risk reversal on the fitted smile, GEX by strike with every zero-gamma level,
the fit's diagnostics and, per contract, bid/ask/mid IVs and the fitted IV,
enough to redraw this snapshot's smile later. The numbers come from
``spyglass.analytics``; this module is the document's shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from spyglass.analytics.exposure import Exposure
from spyglass.analytics.pricing import PricedChain
from spyglass.analytics.summary import expected_move, risk_reversal_25d
from spyglass.contract import iso_ms
from spyglass.detect.finding import r4

ANALYTICS_SCHEMA = "chain-analytics/1"
SIMULATED_WORD = "sim"


def is_simulated(source: str | None) -> bool:
    """A snapshot's ``source`` names a simulated feed when one of its hyphen-separated words is ``sim``.

    ``sim`` (the simulator fed straight to the queue) and ``ibkr-sim`` (the real collector reading the
    fake gateway's simulated market) are simulated; ``ibkr`` or no source is a real feed. The dashboard
    badges a simulated session by the same rule: ``source.split("-").includes("sim")``.
    """
    return bool(source) and SIMULATED_WORD in source.split("-")


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
        "source": snap.source,
        "simulated": is_simulated(snap.source),  # the dashboard's "simulated session" badge: one rule, here
        "delayed": snap.delayed,
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
