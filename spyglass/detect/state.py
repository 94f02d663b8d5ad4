"""Per-chain state that time-series rules need, as plain data that can be saved and restored.

Scale-out: the Functions app keeps this outside the process (a table entity
with ETag concurrency), so every field serialises to JSON-safe lists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from spyglass.contract import Chain, iso_ms, parse_iso

_SERIES_FIELDS = (
    "volume",  # last cumulative volume
    "volume_ts",  # when it was seen (epoch s): a line left out for a while measures its rate over the whole gap
    "rate_mean",  # EW mean of interval volume per second
    "rate_var",  # EW variance of the same
    "rate_obs",  # number of interval observations
    "spread_mean",  # EW mean spread (dollars)
    "spread_obs",
    "residual_vol",  # last (mid IV - fitted IV), NaN when not clean
    "residual_price",  # last (mid - fair), dollars per share
    "was_two_sided",  # 1.0 if bid and ask were both present last time
    # quote freshness (detect/freshness.py)
    "bid",  # last bid and ask seen, to tell a quote that ticked from one that did not
    "ask",
    "anchor_fwd",  # carry forward, years to the close and time (epoch s) at the line's last tick
    "anchor_t",
    "anchor_ts",
    "fit_vol",  # the fitted smile's vol at this strike last time (prices the model's move since the tick)
    "stale",  # 1.0 while a reported stale episode lasts
)
_ZERO_FIELDS = ("rate_obs", "spread_obs", "stale")


@dataclass(frozen=True, slots=True)
class ContractSeries:
    """Arrays aligned with a chain's (right, strike) order."""

    is_call: np.ndarray
    strike: np.ndarray
    values: dict[str, np.ndarray]

    @classmethod
    def empty(cls, chain: Chain) -> ContractSeries:
        n = len(chain)
        vals = {name: np.full(n, math.nan) for name in _SERIES_FIELDS}
        for name in _ZERO_FIELDS:
            vals[name] = np.zeros(n)
        return cls(chain.is_call.copy(), chain.strike.copy(), vals)

    def aligned_to(self, chain: Chain) -> ContractSeries:
        """The same history re-indexed to ``chain``'s contracts (new contracts start empty)."""
        if self.strike.shape == chain.strike.shape and np.array_equal(self.strike, chain.strike) and np.array_equal(
            self.is_call, chain.is_call
        ):
            return self
        fresh = ContractSeries.empty(chain)
        index = {(bool(c), float(k)): i for i, (c, k) in enumerate(zip(self.is_call, self.strike))}
        for j, (c, k) in enumerate(zip(chain.is_call, chain.strike)):
            i = index.get((bool(c), float(k)))
            if i is not None:
                for name in _SERIES_FIELDS:
                    fresh.values[name][j] = self.values[name][i]
        return fresh

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "right": ["C" if c else "P" for c in self.is_call],
            "strike": self.strike.tolist(),
            **{name: [None if math.isnan(v) else v for v in self.values[name].tolist()] for name in _SERIES_FIELDS},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContractSeries:
        n = len(d["strike"])
        vals = {}
        for name in _SERIES_FIELDS:
            if name in d:  # a state saved by an older version lacks the newer fields: they start empty
                vals[name] = np.array([math.nan if v is None else v for v in d[name]], dtype=float)
            else:
                vals[name] = np.zeros(n) if name in _ZERO_FIELDS else np.full(n, math.nan)
        return cls(np.array([r == "C" for r in d["right"]], dtype=bool), np.array(d["strike"], dtype=float), vals)


@dataclass(frozen=True, slots=True)
class ActiveAnomaly:
    first_seen: datetime
    last_seen: datetime
    last_emitted: datetime
    severity: str
    facets: tuple[str, ...] = ()  # the facet types shown so far


@dataclass(frozen=True, slots=True)
class ChainState:
    """Everything the scorer remembers about one (underlying, expiry) between snapshots."""

    underlying: str
    expiry: str
    last_ts: datetime | None = None
    last_seq: int | None = None
    last_digest: str | None = None
    last_spot: float | None = None
    snapshots: int = 0
    series: ContractSeries | None = None
    active: dict[str, ActiveAnomaly] = field(default_factory=dict)
    smile: dict[str, Any] | None = None  # the last fit, to warm-start the next (SmileFit.prior())
    first_ts: datetime | None = None  # the chain's first snapshot of the day (baselines mature from it)
    volume_blocks: list[float] | None = None  # histogram of the largest volume excess per snapshot (volume_spike)
    smile_levels: list[float] = field(default_factory=list)  # at-the-money vol, last snapshots (smile_shift)
    pending: list[str] = field(default_factory=list)  # small-edge findings held back for a second look (confirm)
    tracked: list[dict[str, Any]] = field(default_factory=list)  # alerts with horizons to come (outcome.Tracked)
    settling: list[dict[str, Any]] = field(default_factory=list)  # every horizon read: untouched until the close

    @property
    def graded(self) -> bool:
        """Whether any alert still waits for a horizon or the settlement."""
        return bool(self.tracked or self.settling)

    def evolve(self, **changes: Any) -> ChainState:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "underlying": self.underlying,
            "expiry": self.expiry,
            "last_ts": iso_ms(self.last_ts) if self.last_ts else None,
            "last_seq": self.last_seq,
            "last_digest": self.last_digest,
            "last_spot": self.last_spot,
            "snapshots": self.snapshots,
            "series": self.series.to_dict() if self.series else None,
            "smile": self.smile,
            "first_ts": iso_ms(self.first_ts) if self.first_ts else None,
            "volume_blocks": self.volume_blocks,
            "smile_levels": [None if math.isnan(x) else x for x in self.smile_levels],
            "pending": self.pending,
            "tracked": self.tracked,
            "settling": self.settling,
            "active": {
                k: {
                    "first_seen": iso_ms(a.first_seen),
                    "last_seen": iso_ms(a.last_seen),
                    "last_emitted": iso_ms(a.last_emitted),
                    "severity": a.severity,
                    "facets": list(a.facets),
                }
                for k, a in self.active.items()
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChainState:
        def ts(v: str | None) -> datetime | None:
            return parse_iso(v) if v else None

        return cls(
            underlying=d["underlying"],
            expiry=d["expiry"],
            last_ts=ts(d.get("last_ts")),
            last_seq=d.get("last_seq"),
            last_digest=d.get("last_digest"),
            last_spot=d.get("last_spot"),
            snapshots=int(d.get("snapshots", 0)),
            series=ContractSeries.from_dict(d["series"]) if d.get("series") else None,
            smile=d.get("smile"),
            first_ts=ts(d.get("first_ts")),
            volume_blocks=d.get("volume_blocks"),
            smile_levels=[math.nan if x is None else float(x) for x in d.get("smile_levels") or ()],
            pending=list(d.get("pending") or ()),
            tracked=list(d.get("tracked") or ()),
            settling=list(d.get("settling") or ()),
            active={
                k: ActiveAnomaly(ts(a["first_seen"]), ts(a["last_seen"]), ts(a["last_emitted"]), a["severity"],
                                 tuple(a.get("facets") or ()))
                for k, a in (d.get("active") or {}).items()
            },
        )
