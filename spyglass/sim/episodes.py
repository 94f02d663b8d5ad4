"""Shared by the conditions of a messy feed: when their episodes start, and their labels."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np

from spyglass.labels import make_label
from spyglass.sim.day import Day


RETRY_S = 120.0  # an episode that finds no free line waits this long, then is skipped


def n_snap(seconds: float, interval_s: float) -> int:
    return max(1, round(seconds / interval_s))


def onsets(rng: np.random.Generator, rate_per_hour: float, hours: float, first: int, last: int) -> list[int]:
    """``rate * hours`` onsets (rounded stochastically), uniform over snapshots [first, last]."""
    x = rate_per_hour * hours
    count = int(math.floor(x)) + int(rng.random() < x - math.floor(x))
    if count == 0 or last < first:
        return []
    return sorted(rng.integers(first, last + 1, count).tolist())


def forward_strike(sim: Day, forward: float) -> int:
    """Index of the listed strike nearest the forward."""
    return int(np.argmin(np.abs(sim.strikes - forward)))


def condition_label(sim: Day, id_: str, type_: str, subtype: str | None, right: str | None,
                    strike: float | None, start: datetime, end: datetime, implies=(),
                    detail: dict[str, Any] | None = None) -> dict:
    detail = dict(detail or {})
    detail["interval_s"] = sim.session.interval.total_seconds()
    return make_label(id=id_, type=type_, subtype=subtype, underlying=sim.underlying,
                      expiry=sim.expiry.isoformat(), right=right, strike=strike, start=start, end=end,
                      implies=implies, detail=detail)


class Episodes:
    """A condition's episodes: ``rate_per_hour`` onsets after ``warmup_s``, each waiting for a free line."""

    name = ""

    def __init__(self, sim: Day, rng: np.random.Generator, rate_per_hour: float, warmup_s: float,
                 end_margin: int = 0) -> None:
        self.sim = sim
        self.rng = rng
        ses = sim.session
        self.iv = ses.interval.total_seconds()
        last = ses.n_snapshots - 1
        seqs = onsets(rng, rate_per_hour, ses.hours, min(n_snap(warmup_s, self.iv), last), last - end_margin)
        self.pending = Pending(seqs, self.iv, self.name, ses.ts)
        self.labels: list[dict] = []


class Pending:
    """Onsets waiting for a free line: each retries every snapshot for ``RETRY_S``, then is skipped."""

    def __init__(self, seqs: list[int], interval_s: float, name: str, ts_of) -> None:
        self.due = sorted((s, s) for s in seqs)  # (next try, first due)
        self.max_wait = n_snap(RETRY_S, interval_s)
        self.name = name
        self.ts_of = ts_of  # seq -> datetime
        self.skipped: list[dict] = []

    def _skip(self, seq: int, reason: str) -> None:
        self.skipped.append({"type": self.name, "subtype": None, "due": self.ts_of(seq).isoformat(), "reason": reason})

    def take(self, seq: int, start) -> int:
        """Try ``start(seq)`` for every onset due; returns how many started."""
        if not self.due or self.due[0][0] > seq:  # kept sorted by next try
            return 0
        started = 0
        keep = []
        for nxt, first in self.due:
            if nxt > seq:
                keep.append((nxt, first))
            elif start(seq):
                started += 1
            elif seq - first >= self.max_wait:
                self._skip(first, "no free line")
            else:
                keep.append((seq + 1, first))
        self.due = sorted(keep)
        return started

    def finish(self) -> None:
        for _, first in self.due:
            self._skip(first, "window ended")
        self.due = []
