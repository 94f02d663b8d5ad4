"""Anomaly records grouped into events, the unit that is scored.

Records are grouped by (underlying, expiry, type, right, strike,
evidence.first_seen); a record without ``first_seen`` is an event of its own.
An event's time is the earliest ts of its records. An incident (a record with
``facets``) has the types of its primary and of each facet; a chain-level
finding (no strike) may name the lines it stands for in
``evidence.contracts`` ("C 601").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from spyglass.labels import parse_ts


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
