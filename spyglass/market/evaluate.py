"""Precision and recall of anomaly/1 output against label/1 ground truth.

Events. Anomaly records are grouped into events by (underlying, expiry, type,
right, strike, evidence.first_seen); a record without ``first_seen`` is an
event of its own. An event's time is the earliest ts of its records. An
incident (a record with ``facets``) has the types of its primary and of each
facet; a chain-level finding (no strike) may name the lines it stands for in
``evidence.contracts`` ("C 601").

Matching. An event matches a label when
- the label's type is one of the event's types,
- the rights are equal, if the label has a right (not checked for ``parity``,
  which concerns both legs of a strike),
- the strikes are equal, if the label has a strike (within one strike step for
  ``arbitrage``, whose anomaly may name a wing or the body); a chain-level
  event matches a contract's label when it names that line; a label without a
  strike (snapshot-level data errors) matches any strike, except a
  smile_shift (a gap), which only a chain-level event matches,
- underlying and expiry are equal where both sides carry them,
- and the event's time lies in [label.start, label.end + 2 * interval].

Scores, per type. TP: labels matched by at least one event; FN: labels matched
by none. An event that matches no label of its own type but matches, under the
same rule, a label whose ``implies`` lists the event's type is *explained*:
neither TP nor FP. Every other unmatched event is a FP. Precision is
TP / (TP + FP) and recall TP / (TP + FN) (None when undefined). False alarms
per hour are FP events divided by ``hours``: given by the caller (e.g. the span
of the snapshots scored), else the span from the earliest to the latest
timestamp among labels and anomaly records, plus one interval.

A stale_quote label whose ``detail.material_from`` is null (the fair value
never left the frozen quote: nothing could see the freeze) is *unnoticeable*:
not counted as a label, so never a miss, and an event matching it is explained.

Beyond the scores:
- ``clean``: on a day with no labels every event is a false alarm; market types
  and data errors per hour, apart.
- ``stale``: of the frozen line-snapshots of every stale_quote label (start to
  end at the interval), how many carry a market anomaly (any type but
  data_error) on that contract: an event on that strike and right (or with a
  null right, or a chain-level one naming the line) whose records' ts span
  [first, last] covers the snapshot.
- ``by_size``: recall by size bucket, where labels carry a size: mispricing
  edge beyond the quote in ticks (2, 3-4, 5+), volume_spike multiple (8-12,
  12-20, 20+).
- ``combine`` / ``evaluate_days``: several days (scenario x seed) summed, each
  scored on its own.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from spyglass.market.config import ANOMALY_TYPES
from spyglass.market.labels import parse_ts

MARKET_TYPES = tuple(t for t in ANOMALY_TYPES if t != "data_error")
SIZE_BUCKETS = {"mispricing": ("<2", "2", "3-4", "5+"), "volume_spike": ("<8", "8-12", "12-20", "20+")}
_TICK = 0.01  # labels written before edge_ticks existed give the edge in dollars per share


@dataclass
class Event:
    type: str
    right: str | None
    strike: float | None
    ts: datetime
    underlying: str | None = None
    expiry: str | None = None
    records: int = 1
    first_seen: str | None = None
    types: tuple[str, ...] = ()  # an incident's primary type and its facets' (a label of any of them matches)
    contracts: tuple[str, ...] = ()  # a chain-level finding's lines ("C 601"), from its evidence
    last_ts: datetime | None = None  # ts of the event's latest record

    def __post_init__(self) -> None:
        if self.last_ts is None:
            self.last_ts = self.ts


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


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def _add_counts(into: dict[str, int], other: dict[str, int]) -> None:
    for k, v in other.items():
        into[k] = into.get(k, 0) + v


def _as_dict(rec: Any) -> dict[str, Any]:
    return rec.to_dict() if hasattr(rec, "to_dict") else rec


def group_events(anomalies: Iterable[Any]) -> list[Event]:
    """Anomaly records grouped into events (see the module docstring)."""
    groups: dict[tuple, Event] = {}
    singles: list[Event] = []
    for raw in anomalies:
        rec = _as_dict(raw)
        ts = parse_ts(rec["ts"])
        strike = rec.get("strike")
        strike = None if strike is None else float(strike)
        ev = rec.get("evidence") or {}
        first_seen = ev.get("first_seen") if isinstance(ev, dict) else None
        types = (rec["type"], *(f["type"] for f in rec.get("facets") or ()))
        contracts = tuple(ev.get("contracts") or ()) if isinstance(ev, dict) else ()
        e = Event(rec["type"], rec.get("right"), strike, ts, rec.get("underlying"), rec.get("expiry"), 1, first_seen,
                  types, contracts)
        if first_seen is None:
            singles.append(e)
            continue
        key = (e.underlying, e.expiry, e.type, e.right, strike, str(first_seen))
        have = groups.get(key)
        if have is None:
            groups[key] = e
        else:
            have.records += 1
            have.ts = min(have.ts, ts)
            have.last_ts = max(have.last_ts, ts)
            have.types = tuple(dict.fromkeys((*have.types, *types)))  # an incident may show a face later
    return sorted([*groups.values(), *singles], key=lambda e: e.ts)


@dataclass
class _Label:
    raw: dict[str, Any]
    type: str
    right: str | None
    strike: float | None
    start: datetime
    end: datetime
    implies: tuple[str, ...]
    strike_step: float

    @property
    def unnoticeable(self) -> bool:
        detail = self.raw.get("detail") or {}
        return self.raw.get("subtype") == "stale_quote" and "material_from" in detail and detail["material_from"] is None


def _matches(ev: Event, lb: _Label, as_type: str, window: timedelta) -> bool:
    if as_type not in (ev.types or (ev.type,)):
        return False
    if lb.right is not None and as_type != "parity" and ev.right != lb.right and not ev.contracts:
        return False
    if lb.raw.get("subtype") == "smile_shift" and as_type == lb.type and ev.strike is not None:
        return False  # a chain event is detected by a chain-level finding, not by one line (lines may be excused)
    if lb.strike is not None:
        if ev.strike is None:  # a chain-level finding (a flood) names the lines it stands for
            if not any(c in ev.contracts for c in _names(lb, as_type)):
                return False
        elif abs(ev.strike - lb.strike) > (lb.strike_step * (1 + 1e-6) if as_type == "arbitrage" else 1e-6):
            return False
    if not _same_chain(ev, lb):
        return False
    return lb.start <= ev.ts <= lb.end + window


def _names(lb: _Label, as_type: str) -> tuple[str, ...]:
    rights = ("C", "P") if lb.right is None or as_type == "parity" else (lb.right,)
    return tuple(f"{r} {lb.strike:g}" for r in rights)


def _same_chain(ev: Event, lb: _Label) -> bool:
    for key in ("underlying", "expiry"):
        a, b = getattr(ev, key), lb.raw.get(key)
        if a is not None and b is not None and a != b:
            return False
    return True


def size_bucket(label: dict[str, Any]) -> str | None:
    """The size bucket of a mispricing (edge in ticks) or volume_spike (multiple) label; None without a size."""
    d = label.get("detail") or {}
    if label["type"] == "mispricing":
        ticks = d.get("edge_ticks")
        if ticks is None and d.get("edge_per_share") is not None:
            ticks = d["edge_per_share"] / _TICK
        if ticks is None:
            return None
        k = math.floor(ticks + 1e-6)
        return "<2" if k < 2 else "2" if k == 2 else "3-4" if k <= 4 else "5+"
    if label["type"] == "volume_spike" and d.get("multiple") is not None:
        m = d["multiple"]
        return "<8" if m < 8 else "8-12" if m < 12 else "12-20" if m < 20 else "20+"
    return None


def _stale_exposure(lbs: list[_Label], events: list[Event], interval_s: float) -> StaleExposure:
    out = StaleExposure()
    market: dict[float, list[Event]] = defaultdict(list)
    for ev in events:
        if ev.type == "data_error":
            continue
        if ev.strike is not None:
            market[round(ev.strike, 6)].append(ev)
        for name in ev.contracts:  # a chain-level market finding covers each line it names
            right, strike = name.split()
            market[round(float(strike), 6)].append(replace(ev, right=right))
    for lb in lbs:
        if lb.raw.get("subtype") != "stale_quote" or lb.strike is None:
            continue
        out.labels += 1
        out.unnoticeable += lb.unnoticeable
        iv = timedelta(seconds=float((lb.raw.get("detail") or {}).get("interval_s") or interval_s))
        n = round((lb.end - lb.start) / iv) + 1
        out.line_snapshots += n
        evs = [e for e in market.get(round(lb.strike, 6), ()) if e.right in (None, lb.right) and _same_chain(e, lb)]
        for k in range(n):
            ts = lb.start + k * iv
            covering = {e.type for e in evs if e.ts <= ts <= e.last_ts}
            out.as_market += bool(covering)
            for t in covering:
                out.by_type[t] = out.by_type.get(t, 0) + 1
    return out


def evaluate(
    labels: Iterable[dict[str, Any]],
    anomalies: Iterable[Any],
    interval_s: float | None = None,
    *,
    hours: float | None = None,
    strike_step: float = 1.0,
    max_listed: int = 200,
) -> Report:
    """Score anomaly/1 records (dicts or objects with ``to_dict``) against label/1 dicts, for one day.

    ``interval_s`` defaults to the labels' ``detail.interval_s`` (else 1 s);
    ``strike_step`` to the labels' ``detail.strike_step`` where present.
    """
    raw_labels = [dict(lb) for lb in labels]
    if interval_s is None:
        found = [lb.get("detail", {}).get("interval_s") for lb in raw_labels]
        interval_s = next((float(x) for x in found if x), 1.0)
    window = timedelta(seconds=2 * interval_s)
    lbs = [
        _Label(
            raw=lb,
            type=lb["type"],
            right=lb.get("right"),
            strike=None if lb.get("strike") is None else float(lb["strike"]),
            start=parse_ts(lb["start"]),
            end=parse_ts(lb["end"]),
            implies=tuple(lb.get("implies") or ()),
            strike_step=float((lb.get("detail") or {}).get("strike_step", strike_step)),
        )
        for lb in raw_labels
    ]
    scored = [lb for lb in lbs if not lb.unnoticeable]
    events = group_events(anomalies)

    types = list(ANOMALY_TYPES) + sorted({lb.type for lb in lbs} | {e.type for e in events} - set(ANOMALY_TYPES))
    scores = {t: TypeScore(t) for t in types}
    by_type: dict[str, list[_Label]] = defaultdict(list)
    excusing: dict[str, list[_Label]] = defaultdict(list)  # labels an event of this type is explained by
    for lb in lbs:
        if lb.unnoticeable:
            excusing[lb.type].append(lb)
            continue
        by_type[lb.type].append(lb)
        scores[lb.type].labels += 1
        for t in lb.implies:
            excusing[t].append(lb)

    detected: set[int] = set()
    fps: list[dict[str, Any]] = []
    for ev in events:
        s = scores[ev.type]
        s.events += 1
        types = ev.types or (ev.type,)
        hit = [lb for t in types for lb in by_type[t] if _matches(ev, lb, t, window)]
        if hit:
            s.matched_events += 1
            detected.update(id(lb) for lb in hit)
        elif any(_matches(ev, lb, t, window) for t in types for lb in excusing[t]):
            s.explained_events += 1
        else:
            s.fp += 1
            if len(fps) < max_listed:
                fps.append(
                    {"type": ev.type, "right": ev.right, "strike": ev.strike, "ts": ev.ts.isoformat(),
                     "records": ev.records}
                )

    subtypes: dict[str, dict[str, int]] = {}
    sizes: dict[str, dict[str, dict[str, int]]] = {}
    missed: list[str] = []
    for lb in scored:
        hit = id(lb) in detected
        s = scores[lb.type]
        s.tp += hit
        s.fn += not hit
        if not hit and len(missed) < max_listed:
            missed.append(lb.raw.get("id") or f"{lb.type}@{lb.raw['start']}")
        if lb.raw.get("subtype"):
            key = f"{lb.type}/{lb.raw['subtype']}"
            d = subtypes.setdefault(key, {"labels": 0, "detected": 0})
            d["labels"] += 1
            d["detected"] += hit
        bucket = size_bucket(lb.raw)
        if bucket is not None:
            per = sizes.setdefault(lb.type, {b: {"labels": 0, "detected": 0} for b in SIZE_BUCKETS[lb.type]})
            per[bucket]["labels"] += 1
            per[bucket]["detected"] += hit

    if hours is None:
        stamps = [lb.start for lb in lbs] + [lb.end for lb in lbs] + [e.ts for e in events]
        span = (max(stamps) - min(stamps)).total_seconds() + interval_s if stamps else 0.0
        hours, source = span / 3600.0, "span of labels and anomalies"
    else:
        source = "given"
    total = TypeScore("total")
    for s in scores.values():
        s.finish(hours)
        total.add(s)
    total.finish(hours)
    clean = CleanDays()
    if not lbs:
        clean = CleanDays(1, hours, sum(e.type != "data_error" for e in events),
                          sum(e.type == "data_error" for e in events))
        for e in events:
            clean.by_type[e.type] = clean.by_type.get(e.type, 0) + 1
    return Report(scores, total, hours, source, float(interval_s), subtypes, missed, fps, sizes,
                  _stale_exposure(lbs, events, interval_s), clean)


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
    source = f"sum of {len(reports)} days" if len(reports) > 1 else reports[0].hours_source
    return Report(
        scores, total, hours, source, reports[0].interval_s if len(intervals) == 1 else min(intervals),
        subtypes, [m for r in reports for m in r.missed][:max_listed],
        [f for r in reports for f in r.false_positives][:max_listed], sizes, stale, clean,
        sum(r.days for r in reports),
    )


def evaluate_days(
    days: Iterable[tuple[Iterable[dict[str, Any]], Iterable[Any], float | None]],
    interval_s: float | None = None,
) -> Report:
    """``evaluate`` of each (labels, anomalies, hours) day on its own, summed with ``combine``."""
    return combine(evaluate(labels, anomalies, interval_s, hours=hours) for labels, anomalies, hours in days)
