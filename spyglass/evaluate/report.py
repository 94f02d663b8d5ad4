"""The scores of an evaluation, its text and JSON (evaluation/1) forms, and several days summed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


SIZE_BUCKETS = {"mispricing": ("<2", "2", "3-4", "5+"), "volume_spike": ("<8", "8-12", "12-20", "20+")}


@dataclass
class TypeScore:
    type: str
    labels: int = 0
    tp: int = 0
    fn: int = 0
    events: int = 0
    matched_events: int = 0
    explained_events: int = 0
    fp: int = 0
    precision: float | None = None
    recall: float | None = None
    false_alarms_per_hour: float | None = None

    COUNTS = ("labels", "tp", "fn", "events", "matched_events", "explained_events", "fp")

    def finish(self, hours: float) -> None:
        self.precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        self.recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        self.false_alarms_per_hour = self.fp / hours if hours > 0 else None

    def add(self, other: TypeScore) -> None:
        for k in self.COUNTS:
            setattr(self, k, getattr(self, k) + getattr(other, k))


@dataclass
class CleanDays:
    """Days with no labels: every event on them is a false alarm."""

    days: int = 0
    hours: float = 0.0
    market_events: int = 0
    data_error_events: int = 0
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def market_per_hour(self) -> float | None:
        return self.market_events / self.hours if self.hours > 0 else None

    @property
    def data_error_per_hour(self) -> float | None:
        return self.data_error_events / self.hours if self.hours > 0 else None

    def add(self, other: CleanDays) -> None:
        self.days += other.days
        self.hours += other.hours
        self.market_events += other.market_events
        self.data_error_events += other.data_error_events
        _add_counts(self.by_type, other.by_type)

    def to_dict(self) -> dict[str, Any]:
        return _rounded({**asdict(self), "market_per_hour": self.market_per_hour,
                         "data_error_per_hour": self.data_error_per_hour})


@dataclass
class StaleExposure:
    """Frozen line-snapshots of the stale_quote labels, and how many carry a market anomaly on that contract."""

    labels: int = 0
    unnoticeable: int = 0  # material_from null
    line_snapshots: int = 0
    as_market: int = 0
    by_type: dict[str, int] = field(default_factory=dict)  # line-snapshots covered, per covering type

    @property
    def share(self) -> float | None:
        return self.as_market / self.line_snapshots if self.line_snapshots else None

    def add(self, other: StaleExposure) -> None:
        for k in ("labels", "unnoticeable", "line_snapshots", "as_market"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        _add_counts(self.by_type, other.by_type)

    def to_dict(self) -> dict[str, Any]:
        return _rounded({**asdict(self), "share": self.share})


@dataclass
class Report:
    by_type: dict[str, TypeScore]
    total: TypeScore
    hours: float
    hours_source: str
    interval_s: float
    by_subtype: dict[str, dict[str, int]] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)  # ids (or type@start) of undetected labels
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    by_size: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    stale: StaleExposure = field(default_factory=StaleExposure)
    clean: CleanDays = field(default_factory=CleanDays)
    days: int = 1

    def fp_per_hour(self, market: bool) -> float | None:
        """False alarms per hour of the market types (``market``) or of data errors."""
        fp = sum(s.fp for t, s in self.by_type.items() if (t != "data_error") == market)
        return fp / self.hours if self.hours > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "evaluation/1",
            "interval_s": self.interval_s,
            "hours": round(self.hours, 4),
            "hours_source": self.hours_source,
            "by_type": {t: _rounded(asdict(s)) for t, s in self.by_type.items()},
            "total": _rounded(asdict(self.total)),
            "by_subtype": self.by_subtype,
            "missed": self.missed,
            "false_positives": self.false_positives,
            "days": self.days,
            "false_alarms_per_hour": _rounded(
                {"market": self.fp_per_hour(True), "data_error": self.fp_per_hour(False)}),
            "clean_days": self.clean.to_dict(),
            "stale_as_market": self.stale.to_dict(),
            "by_size": {t: {b: {**v, "recall": _ratio(v["detected"], v["labels"])} for b, v in buckets.items()}
                        for t, buckets in self.by_size.items()},
        }

    def to_text(self) -> str:
        head = (
            f"{'type':<15}{'labels':>7}{'TP':>5}{'FN':>5}{'events':>8}{'FP':>6}{'expl':>6}"
            f"{'precision':>11}{'recall':>8}{'FP/h':>7}"
        )
        lines = [head, "-" * len(head)]
        for s in [*self.by_type.values(), self.total]:
            if s is self.total:
                lines.append("-" * len(head))
            lines.append(
                f"{s.type:<15}{s.labels:>7}{s.tp:>5}{s.fn:>5}{s.events:>8}{s.fp:>6}{s.explained_events:>6}"
                f"{_fmt(s.precision):>11}{_fmt(s.recall):>8}{_fmt(s.false_alarms_per_hour, 2):>7}"
            )
        days = f"{self.days} days, " if self.days != 1 else ""
        lines.append(
            f"hours: {self.hours:.2f} ({days}{self.hours_source}); match window: label end + {2 * self.interval_s:g} s"
        )
        lines.append(f"false alarms per hour: market {_fmt(self.fp_per_hour(True), 2)}, "
                     f"data errors {_fmt(self.fp_per_hour(False), 2)}")
        if self.by_subtype:
            parts = [f"{k} {v['detected']}/{v['labels']}" for k, v in sorted(self.by_subtype.items())]
            lines.append("detected by subtype: " + ", ".join(parts))
        for t, buckets in self.by_size.items():
            parts = [f"{b} {v['detected']}/{v['labels']}" for b, v in buckets.items() if v["labels"]]
            if parts:
                lines.append(f"{t} recall by size: " + ", ".join(parts))
        c = self.clean
        if c.days:
            lines.append(f"clean days: {c.days} ({c.hours:.2f} h), false alarms per hour: market "
                         f"{_fmt(c.market_per_hour, 2)}, data errors {_fmt(c.data_error_per_hour, 2)}")
        st = self.stale
        if st.labels:
            kinds = ", ".join(f"{t} {n}" for t, n in sorted(st.by_type.items()))
            lines.append(f"stale lines reported as market anomalies: {st.as_market} of {st.line_snapshots} "
                         f"frozen line-snapshots ({_fmt(st.share and 100 * st.share, 2)}%)"
                         f"{f': {kinds}' if kinds else ''}; {st.unnoticeable} of {st.labels} stale lines "
                         "never material (not scored)")
        return "\n".join(lines)


def combine(reports: Iterable[Report], max_listed: int = 200) -> Report:
    """Several days' reports summed: counts and hours added, rates recomputed."""
    reports = list(reports)
    if not reports:
        raise ValueError("combine needs at least one report")
    hours = sum(r.hours for r in reports)
    scores: dict[str, TypeScore] = {}
    for r in reports:
        for t, s in r.by_type.items():
            scores.setdefault(t, TypeScore(t)).add(s)
    total = TypeScore("total")
    for s in scores.values():
        s.finish(hours)
        total.add(s)
    total.finish(hours)
    subtypes: dict[str, dict[str, int]] = {}
    sizes: dict[str, dict[str, dict[str, int]]] = {}
    stale, clean = StaleExposure(), CleanDays()
    for r in reports:
        for k, v in r.by_subtype.items():
            _add_counts(subtypes.setdefault(k, {"labels": 0, "detected": 0}), v)
        for t, buckets in r.by_size.items():
            per = sizes.setdefault(t, {b: {"labels": 0, "detected": 0} for b in SIZE_BUCKETS[t]})
            for b, v in buckets.items():
                _add_counts(per[b], v)
        stale.add(r.stale)
        clean.add(r.clean)
    intervals = {r.interval_s for r in reports}
    source = f"sum of {sum(r.days for r in reports)} days" if len(reports) > 1 else reports[0].hours_source
    return Report(
        scores, total, hours, source, reports[0].interval_s if len(intervals) == 1 else min(intervals),
        subtypes, [m for r in reports for m in r.missed][:max_listed],
        [f for r in reports for f in r.false_positives][:max_listed], sizes, stale, clean,
        sum(r.days for r in reports),
    )


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def _add_counts(into: dict[str, int], other: dict[str, int]) -> None:
    for k, v in other.items():
        into[k] = into.get(k, 0) + v
