"""Does an event match a label; which frozen line-snapshots carry a market anomaly (see ``score``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from spyglass.evaluate.events import Event
from spyglass.evaluate.report import StaleExposure
from spyglass.labels import parse_ts


@dataclass
class Label:
    """A label/1 dict as the matching reads it."""

    raw: dict[str, Any]
    type: str
    right: str | None
    strike: float | None
    start: datetime
    end: datetime
    implies: tuple[str, ...]
    strike_step: float

    @classmethod
    def of(cls, raw: dict[str, Any], strike_step: float) -> Label:
        """``strike_step`` unless the label's ``detail.strike_step`` says otherwise."""
        return cls(
            raw=raw,
            type=raw["type"],
            right=raw.get("right"),
            strike=None if raw.get("strike") is None else float(raw["strike"]),
            start=parse_ts(raw["start"]),
            end=parse_ts(raw["end"]),
            implies=tuple(raw.get("implies") or ()),
            strike_step=float((raw.get("detail") or {}).get("strike_step", strike_step)),
        )

    @property
    def unnoticeable(self) -> bool:
        detail = self.raw.get("detail") or {}
        return self.raw.get("subtype") == "stale_quote" and "material_from" in detail and detail["material_from"] is None


def matches(ev: Event, lb: Label, as_type: str, window: timedelta) -> bool:
    """The matching rule of ``spyglass.evaluate.score`` (its docstring), for the event as ``as_type``."""
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


def _names(lb: Label, as_type: str) -> tuple[str, ...]:
    rights = ("C", "P") if lb.right is None or as_type == "parity" else (lb.right,)
    return tuple(f"{r} {lb.strike:g}" for r in rights)


def _same_chain(ev: Event, lb: Label) -> bool:
    for key in ("underlying", "expiry"):
        a, b = getattr(ev, key), lb.raw.get(key)
        if a is not None and b is not None and a != b:
            return False
    return True


def stale_exposure(lbs: list[Label], events: list[Event], interval_s: float) -> StaleExposure:
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
