"""Precision and recall of anomaly/1 output against label/1 ground truth.

Events are anomaly records grouped as ``spyglass.evaluate.events`` says.

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
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from spyglass.contract import ANOMALY_TYPES
from spyglass.evaluate.events import Event, group_events
from spyglass.evaluate.matching import Label, matches, stale_exposure
from spyglass.evaluate.report import SIZE_BUCKETS, CleanDays, Report, TypeScore, combine


_TICK = 0.01  # labels written before edge_ticks existed give the edge in dollars per share


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
    lbs = [Label.of(lb, strike_step) for lb in raw_labels]
    events = group_events(anomalies)
    tally = _Tally(lbs, events)
    tally.score_events(events, timedelta(seconds=2 * interval_s), max_listed)
    tally.score_labels(max_listed)
    if hours is None:
        stamps = [lb.start for lb in lbs] + [lb.end for lb in lbs] + [e.ts for e in events]
        span = (max(stamps) - min(stamps)).total_seconds() + interval_s if stamps else 0.0
        hours, source = span / 3600.0, "span of labels and anomalies"
    else:
        source = "given"
    total = TypeScore("total")
    for s in tally.scores.values():
        s.finish(hours)
        total.add(s)
    total.finish(hours)
    clean = _clean_day(events, hours) if not lbs else CleanDays()
    return Report(tally.scores, total, hours, source, float(interval_s), tally.subtypes, tally.missed, tally.fps,
                  tally.sizes, stale_exposure(lbs, events, interval_s), clean)


@dataclass
class _Tally:
    """The counts of one day, filled by the events, then by the labels."""

    lbs: list[Label]
    events: list[Event]
    scores: dict[str, TypeScore] = field(init=False)
    by_type: dict[str, list[Label]] = field(default_factory=lambda: defaultdict(list))
    excusing: dict[str, list[Label]] = field(default_factory=lambda: defaultdict(list))  # labels explaining a type
    detected: set[int] = field(default_factory=set)
    fps: list[dict[str, Any]] = field(default_factory=list)
    subtypes: dict[str, dict[str, int]] = field(default_factory=dict)
    sizes: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        seen = {lb.type for lb in self.lbs} | {e.type for e in self.events}
        types = list(ANOMALY_TYPES) + sorted(seen - set(ANOMALY_TYPES))
        self.scores = {t: TypeScore(t) for t in types}
        for lb in self.lbs:
            if lb.unnoticeable:
                self.excusing[lb.type].append(lb)
                continue
            self.by_type[lb.type].append(lb)
            self.scores[lb.type].labels += 1
            for t in lb.implies:
                self.excusing[t].append(lb)

    def score_events(self, events: list[Event], window: timedelta, max_listed: int) -> None:
        """Each event matched (TP side), explained by an implied type, or a false positive."""
        for ev in events:
            s = self.scores[ev.type]
            s.events += 1
            types = ev.types or (ev.type,)
            hit = [lb for t in types for lb in self.by_type[t] if matches(ev, lb, t, window)]
            if hit:
                s.matched_events += 1
                self.detected.update(id(lb) for lb in hit)
            elif any(matches(ev, lb, t, window) for t in types for lb in self.excusing[t]):
                s.explained_events += 1
            else:
                s.fp += 1
                if len(self.fps) < max_listed:
                    self.fps.append(
                        {"type": ev.type, "right": ev.right, "strike": ev.strike, "ts": ev.ts.isoformat(),
                         "records": ev.records}
                    )

    def score_labels(self, max_listed: int) -> None:
        """Each noticeable label detected or missed, by type, subtype and size."""
        for lb in self.lbs:
            if lb.unnoticeable:
                continue
            hit = id(lb) in self.detected
            s = self.scores[lb.type]
            s.tp += hit
            s.fn += not hit
            if not hit and len(self.missed) < max_listed:
                self.missed.append(lb.raw.get("id") or f"{lb.type}@{lb.raw['start']}")
            if lb.raw.get("subtype"):
                d = self.subtypes.setdefault(f"{lb.type}/{lb.raw['subtype']}", {"labels": 0, "detected": 0})
                d["labels"] += 1
                d["detected"] += hit
            bucket = size_bucket(lb.raw)
            if bucket is not None:
                per = self.sizes.setdefault(lb.type, {b: {"labels": 0, "detected": 0} for b in SIZE_BUCKETS[lb.type]})
                per[bucket]["labels"] += 1
                per[bucket]["detected"] += hit


def _clean_day(events: list[Event], hours: float) -> CleanDays:
    """A day without labels: every event is a false alarm."""
    clean = CleanDays(1, hours, sum(e.type != "data_error" for e in events),
                      sum(e.type == "data_error" for e in events))
    for e in events:
        clean.by_type[e.type] = clean.by_type.get(e.type, 0) + 1
    return clean


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


def evaluate_days(
    days: Iterable[tuple[Iterable[dict[str, Any]], Iterable[Any], float | None]],
    interval_s: float | None = None,
) -> Report:
    """``evaluate`` of each (labels, anomalies, hours) day on its own, summed with ``combine``."""
    return combine(evaluate(labels, anomalies, interval_s, hours=hours) for labels, anomalies, hours in days)
