"""The market's gate: a rule type trades (paper or live) only while its alerts have earned money.

Each alert's outcome (SignalR target ``outcome``; spyglass/outcome) gives its trade's markout to mid
at several horizons. The bot keeps the trailing ``window`` markouts of each type at ``horizon`` (in
its ledger, so a restart keeps them) and opens the gate of a type while at least ``min_alerts`` are
known and the one-sided lower confidence bound of their mean (normal, at ``confidence``) is above
zero. Shadow mode is never gated (it sends nothing), but every decision records the gate's state.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class GateSettings:
    horizon: str = "5m"  # 5s, 30s, 2m, 5m or settle
    min_alerts: int = 30
    confidence: float = 0.9
    window: int = 200  # trailing markouts per type


@dataclass(frozen=True)
class GateState:
    type: str
    horizon: str
    n: int
    mean: float | None
    lower: float | None  # the mean's one-sided lower bound at the configured confidence
    open: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def judge(type_: str, markouts: Sequence[float], g: GateSettings) -> GateState:
    """Open when ``min_alerts`` markouts are known and their mean is above zero with ``confidence``."""
    n = len(markouts)
    if n < max(g.min_alerts, 2):
        return GateState(type_, g.horizon, n, statistics.fmean(markouts) if n else None, None, False,
                         f"{type_} has {n} graded alerts at {g.horizon}, fewer than the {g.min_alerts} the gate needs")
    mean = statistics.fmean(markouts)
    z = statistics.NormalDist().inv_cdf(g.confidence)
    lower = mean - z * statistics.stdev(markouts) / math.sqrt(n)
    if lower > 0:
        return GateState(type_, g.horizon, n, mean, lower, True,
                         f"{type_} earned ${mean:.2f} a contract at {g.horizon} over its last {n} alerts "
                         f"(at least ${lower:.2f} with {g.confidence:.0%} confidence)")
    return GateState(type_, g.horizon, n, mean, lower, False,
                     f"{type_} has not proven itself at {g.horizon}: ${mean:.2f} a contract over its last {n} alerts, "
                     f"lower bound ${lower:.2f} at {g.confidence:.0%} confidence")
