"""Engine configuration: the underlying and every detector threshold, in one place.

Nothing in the core hard-codes SPY: the underlying's contract multiplier, tick
and calendar come from ``UnderlyingSpec``; thresholds from ``DetectorConfig``.
Defaults are documented in docs/detectors.md and can be overridden from the
environment (``SPYGLASS_<FIELD>``) by adapters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace


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
    stale_seconds: float = 30.0  # a snapshot this much older than the newest seen is stale
    # mispricing: whole quote away from fair by k half-spreads and a dollar edge
    mispricing_k: float = 3.0
    mispricing_min_edge: float = 3.0  # dollars per contract beyond the spread, after fees
    fee_per_contract: float = 0.65
    # parity / arbitrage: dollars per contract beyond tradeable bounds
    parity_min_edge: float = 3.0
    arbitrage_min_edge: float = 1.0
    # volume spike: robust z of interval volume vs the contract's own baseline
    volume_min_interval: float = 200.0
    volume_ratio: float = 12.0
    volume_z: float = 8.0
    volume_warmup: int = 20
    # spread blowout: vs neighbours and own history
    spread_ratio: float = 3.0
    spread_min_ticks: float = 4.0
    # iv jump: residual change beyond what the spot move explains
    iv_jump_vol_points: float = 2.0
    iv_jump_half_spreads: float = 3.0
    # smile fit
    near_close_minutes: float = 20.0
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


@dataclass(frozen=True, slots=True)
class EngineConfig:
    underlying: UnderlyingSpec = field(default_factory=UnderlyingSpec)
    detectors: DetectorConfig = field(default_factory=DetectorConfig)
