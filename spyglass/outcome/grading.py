"""Alert types graded by their markouts: n, share positive, mean and median, a confidence interval.

The interval is the mean's 95 % normal interval (1.96 standard errors): markouts of one type over
a day are many and their mean is what a trader earns per alert; below 2 markouts there is none.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from spyglass.outcome.markout import HORIZONS, SETTLEMENT, Markout

ORDER = [name for name, _ in HORIZONS] + [SETTLEMENT]
Z95 = 1.959964


@dataclass(frozen=True, slots=True)
class Grade:
    type: str
    severity: str  # or "all"
    horizon: str
    n: int  # markouts read
    missing: int  # horizons with no usable quote
    share_positive: float | None  # of the markouts to mid
    mean: float | None  # to mid, dollars per contract after fees
    median: float | None
    ci_low: float | None
    ci_high: float | None
    mean_exit: float | None  # closing across the spread (not at the settlement)

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _grade(type_: str, severity: str, horizon: str, marks: list[Markout]) -> Grade:
    ok = [m for m in marks if m.status == "ok" and m.mid is not None]
    mids = [float(m.mid) for m in ok]
    exits = [float(m.exit) for m in ok if m.exit is not None]
    n = len(mids)
    mean = statistics.fmean(mids) if n else None
    half = Z95 * statistics.stdev(mids) / math.sqrt(n) if n >= 2 else None
    return Grade(type_, severity, horizon, n, len(marks) - n, sum(x > 0 for x in mids) / n if n else None, mean,
                 statistics.median(mids) if n else None, None if half is None else mean - half,
                 None if half is None else mean + half, statistics.fmean(exits) if exits else None)


def grade(markouts: Iterable[Markout], by_severity: bool = False) -> list[Grade]:
    """One grade per (type, horizon), and per severity too with ``by_severity``; in horizon order."""
    groups: dict[tuple[str, str, str], list[Markout]] = {}
    for m in markouts:
        groups.setdefault((m.type, "all", m.horizon), []).append(m)
        if by_severity:
            groups.setdefault((m.type, m.severity, m.horizon), []).append(m)
    keys = sorted(groups, key=lambda k: (k[0], k[1] != "all", k[1], ORDER.index(k[2]) if k[2] in ORDER else 99))
    return [_grade(*k, groups[k]) for k in keys]


def table(grades: Iterable[Grade]) -> str:
    """The grading as text, for ``spyglass report``."""
    lines = [f"{'type':<14} {'severity':<8} {'horizon':<7} {'n':>5} {'miss':>5} {'>0':>6} {'mean $':>8} "
             f"{'median $':>9} {'95% CI':>17} {'exit $':>8}"]
    for g in grades:
        def f(x: float | None, w: int, p: int = 2) -> str:
            return f"{x:>{w}.{p}f}" if x is not None else f"{'-':>{w}}"
        ci = f"[{g.ci_low:.2f}, {g.ci_high:.2f}]" if g.ci_low is not None else "-"
        share = f"{100 * g.share_positive:5.0f}%" if g.share_positive is not None else f"{'-':>6}"
        lines.append(f"{g.type:<14} {g.severity:<8} {g.horizon:<7} {g.n:>5} {g.missing:>5} {share} {f(g.mean, 8)} "
                     f"{f(g.median, 9)} {ci:>17} {f(g.mean_exit, 8)}")
    return "\n".join(lines)
