"""Engine configuration: the underlying and every detector threshold, in one place.

Nothing in the core hard-codes SPY: the underlying's contract multiplier, tick
and calendar come from ``UnderlyingSpec``; thresholds from ``DetectorConfig``.
Defaults are documented in docs/detectors.md and can be overridden from the
environment (``SPYGLASS_<FIELD>``) by adapters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True, slots=True)
class UnderlyingSpec:
    symbol: str = "SPY"
    multiplier: float = 100.0
    tick: float = 0.01
    calendar: str = "XNYS"
    default_rate: float = 0.04
    default_dividend_yield: float = 0.0


KNOWN_UNDERLYINGS = {
    "SPY": UnderlyingSpec("SPY"),
    "QQQ": UnderlyingSpec("QQQ"),
    "IWM": UnderlyingSpec("IWM"),
}


def underlying_spec(symbol: str) -> UnderlyingSpec:
    """Known ETFs share the equity-option defaults; an unknown symbol gets them too."""
    return KNOWN_UNDERLYINGS.get(symbol, UnderlyingSpec(symbol))


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    # quote hygiene
    min_price: float = 0.05  # below this mid, IVs are noise: no IV-based rule fires
    # quote freshness (detect/freshness.py): a line that has not ticked while the model says its value moved
    # more than this many half-spreads (plus a tick) is not a price any more
    stale_half_spreads: float = 2.0
    stale_report_seconds: float = 5.0  # ...and is reported (once per episode) when it stays frozen this long
    stale_suspect_seconds: float = 2.0  # not ticked this long though its value moved a tick: no rule judges it
    # the robust screen (detect/screen.py): a quote this far from what its neighbours imply is a data error
    outlier_ratio: float = 5.0  # or a price this many times (or this fraction of) the neighbours' value
    outlier_half_spreads: float = 5.0  # ...and this many of its neighbours' half-spreads (at least 5 ticks) away
    outlier_vol_points: float = 25.0  # a side this far in vol from what its neighbours imply (not near the close)
    # forward: a call/put pair whose implied forward is this many of its half-widths (plus a tick) from the
    # spot carried to the close is dropped; when the options agree with each other but not with spot,
    # spot is the data error (spot_mismatch)
    forward_pair_half_spreads: float = 4.0
    spot_mismatch_half_spreads: float = 10.0
    # mispricing: whole quote away from fair by k half-spreads and a dollar edge
    mispricing_k: float = 2.0
    mispricing_min_edge: float = 1.3  # dollars per contract beyond the spread, after fees (2 ticks less a fee)
    fee_per_contract: float = 0.65
    # parity / arbitrage: dollars per contract beyond tradeable bounds
    parity_min_edge: float = 3.0
    arbitrage_min_edge: float = 1.0
    # volume spike (rules/volume_spike.py): beyond the line's own flow and the chain's ordinary blocks
    volume_min_interval: float = 200.0  # contracts in the interval
    volume_ratio: float = 8.0  # x the line's expected volume for the interval
    volume_block_multiple: float = 2.0  # x the chain's ordinary block, above the expectation
    volume_warmup: int = 20  # observations before a line's own baseline stands alone
    volume_oi_turnover: float = 0.5  # a cold line's prior: this share of its open interest trades in a session
    volume_warmup_seconds: float = 300.0  # of the chain's day before any volume alarm
    volume_warmup_snapshots: int = 100  # ...and snapshots seen, to know the chain's ordinary blocks
    # spread blowout: vs neighbours and own history
    spread_ratio: float = 3.0
    spread_min_ticks: float = 4.0
    # iv jump: residual change beyond what the spot move explains
    iv_jump_vol_points: float = 2.0
    iv_jump_half_spreads: float = 3.0
    # smile shift (rules/smile_shift.py): the fitted ATM vol moving this much between two snapshots
    smile_shift_vol_points: float = 2.0
    smile_shift_relative: float = 0.10  # ...and this share of its level
    # smile fit
    near_close_minutes: float = 20.0
    # floods (detect/floods.py): one rule flagging this many contracts the same way in one snapshot is one
    # chain-level event, not that many alerts
    flood_contracts: int = 5
    # persistence
    continuing_every_seconds: float = 30.0
    forget_after_seconds: float = 10.0
    # signal subset
    signal_min_edge: float = 10.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DetectorConfig:
        env = os.environ if environ is None else environ
        cfg = cls()
        updates = {}
        for f in fields(cls):
            raw = env.get(f"SPYGLASS_{f.name.upper()}")
            if raw is not None:
                updates[f.name] = type(getattr(cfg, f.name))(raw)
        return replace(cfg, **updates)
