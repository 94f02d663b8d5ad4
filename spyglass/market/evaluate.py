"""Precision and recall of anomaly/1 output against label/1 ground truth.

Events. Anomaly records are grouped into events by (underlying, expiry, type,
right, strike, evidence.first_seen); a record without ``first_seen`` is an
event of its own. An event's time is the earliest ts of its records.

Matching. An event matches a label when
- the types are equal,
- the rights are equal, if the label has a right (not checked for ``parity``,
  which concerns both legs of a strike),
- the strikes are equal, if the label has a strike (within one strike step for
  ``arbitrage``, whose anomaly may name a wing or the body); a label without a
  strike (snapshot-level data errors) matches any strike,
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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from spyglass.market.config import ANOMALY_TYPES
from spyglass.market.labels import parse_ts


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

    def finish(self, hours: float) -> None:
        self.precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        self.recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        self.false_alarms_per_hour = self.fp / hours if hours > 0 else None


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
        lines.append(
            f"hours: {self.hours:.2f} ({self.hours_source}); match window: label end + {2 * self.interval_s:g} s"
        )
        if self.by_subtype:
            parts = [f"{k} {v['detected']}/{v['labels']}" for k, v in sorted(self.by_subtype.items())]
            lines.append("detected by subtype: " + ", ".join(parts))
        return "\n".join(lines)


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


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
        e = Event(rec["type"], rec.get("right"), strike, ts, rec.get("underlying"), rec.get("expiry"), 1, first_seen,
                  types)
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


def _matches(ev: Event, lb: _Label, as_type: str, window: timedelta) -> bool:
    if as_type not in (ev.types or (ev.type,)):
        return False
    if lb.right is not None and as_type != "parity" and ev.right != lb.right:
        return False
    if lb.strike is not None:
        if ev.strike is None:
            return False
        tol = lb.strike_step * (1 + 1e-6) if as_type == "arbitrage" else 1e-6
        if abs(ev.strike - lb.strike) > tol:
            return False
    for key in ("underlying", "expiry"):
        a, b = getattr(ev, key), lb.raw.get(key)
        if a is not None and b is not None and a != b:
            return False
    return lb.start <= ev.ts <= lb.end + window


def evaluate(
    labels: Iterable[dict[str, Any]],
    anomalies: Iterable[Any],
    interval_s: float | None = None,
    *,
    hours: float | None = None,
    strike_step: float = 1.0,
    max_listed: int = 200,
) -> Report:
    """Score anomaly/1 records (dicts or objects with ``to_dict``) against label/1 dicts.

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
    events = group_events(anomalies)

    types = list(ANOMALY_TYPES) + sorted({lb.type for lb in lbs} | {e.type for e in events} - set(ANOMALY_TYPES))
    scores = {t: TypeScore(t) for t in types}
    by_type: dict[str, list[_Label]] = defaultdict(list)
    implying: dict[str, list[_Label]] = defaultdict(list)
    for lb in lbs:
        by_type[lb.type].append(lb)
        scores[lb.type].labels += 1
        for t in lb.implies:
            implying[t].append(lb)

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
        elif any(_matches(ev, lb, t, window) for t in types for lb in implying[t]):
            s.explained_events += 1
        else:
            s.fp += 1
            if len(fps) < max_listed:
                fps.append(
                    {"type": ev.type, "right": ev.right, "strike": ev.strike, "ts": ev.ts.isoformat(),
                     "records": ev.records}
                )

    subtypes: dict[str, dict[str, int]] = {}
    missed: list[str] = []
    for lb in lbs:
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

    if hours is None:
        stamps = [lb.start for lb in lbs] + [lb.end for lb in lbs] + [e.ts for e in events]
        span = (max(stamps) - min(stamps)).total_seconds() + interval_s if stamps else 0.0
        hours, source = span / 3600.0, "span of labels and anomalies"
    else:
        source = "given"
    total = TypeScore("total")
    for s in scores.values():
        s.finish(hours)
        for k in ("labels", "tp", "fn", "events", "matched_events", "explained_events", "fp"):
            setattr(total, k, getattr(total, k) + getattr(s, k))
    total.finish(hours)
    return Report(scores, total, hours, source, float(interval_s), subtypes, missed, fps)
