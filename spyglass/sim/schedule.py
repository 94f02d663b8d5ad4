"""Labelled anomaly injection: schedule, onsets, per-snapshot edits and label/1 output.

The ``Schedule`` draws the day's schedule up front: per type, ``rate * hours``
onsets (rounded stochastically) uniform over the window after a warm-up. At an
onset it picks a contract that makes sense for the type (``injections.py``);
if none fits it retries on later snapshots for up to 2 minutes (10 minutes for
snapshot-level errors, which wait for a snapshot that no other injection
touches), then records the injection in ``skipped``. Contract-level injections
reserve their strike and two strikes either side until 10 s after they end, so
labels never overlap.

``implies`` is computed, not assumed: every snapshot an injection touches is
checked, with zero tolerance, for the collateral conditions other detectors
could legitimately report on the touched contracts: the model fair value
outside the quote (mispricing), put-call parity bounds crossed at tradeable
prices (parity), a vertical or butterfly violation at tradeable prices
(arbitrage), and, at onset, bid and ask both jumping by at least the half
spread (iv_jump). Data errors imply nothing: detectors should suppress market
alerts on bad data rather than raise them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from spyglass.analytics.black import forward_delta
from spyglass.labels import make_label
from spyglass.sim.config import INJECTED_TYPES, InjectionConfig
from spyglass.sim.day import Day
from spyglass.sim.step import Step


SNAPSHOT_LEVEL = ("out_of_order", "stale")
_EPS = 1e-9


class Injection:
    """One injected anomaly (subclasses in ``injections``): chosen at its onset by ``begin``, then its hooks
    edit each snapshot it spans: ``vol_adjust`` (before pricing), ``quotes`` (integer ticks), ``flow``
    (sizes and interval volume), ``errors`` (the float prices, for data errors)."""

    type = ""
    subtype: str | None = None
    checks_collateral = True

    def __init__(self, ctx: Schedule, st: Step, idx: list[int], n: int, detail: dict) -> None:
        self.ctx = ctx
        self.idx = idx
        self.start_seq = st.seq
        self.end_seq = min(st.seq + max(n, 1) - 1, ctx.last_seq)
        self.start_ts = st.ts
        self.detail = detail
        self.implies: set[str] = set()
        self.id = ctx.next_id()
        i = idx[0]
        self.right: str | None = "C" if ctx.sim.is_call[i] else "P"
        self.strike: float | None = float(ctx.sim.strike[i])

    @classmethod
    def begin(cls, ctx: Schedule, st: Step, subtype: str | None = None) -> Injection | None:
        """The injection at this onset, or None when no contract fits (the schedule retries later)."""
        raise NotImplementedError

    @property
    def strike_indexes(self) -> list[int]:
        nk = self.ctx.sim.n_strikes
        return sorted({i % nk for i in self.idx})

    def vol_adjust(self, st: Step, k: int) -> dict[int, float]:
        return {}

    def quotes(self, st: Step, k: int) -> None:
        pass

    def flow(self, st: Step, k: int) -> None:
        pass

    def errors(self, st: Step, k: int) -> None:
        pass


@dataclass
class _Due:
    seq: int
    type: str
    subtype: str | None
    first_due: int


class Schedule:
    """The day's injections: when each is due, which are active, which strikes they hold, and their labels.

    ``kinds`` maps an anomaly type to its ``Injection`` class (``injections.INJECTIONS``).
    """

    def __init__(self, cfg: InjectionConfig, sim: Day, rng: np.random.Generator,
                 kinds: Mapping[str, type[Injection]]) -> None:
        self.cfg = cfg
        self.kinds = kinds
        self.sim = sim
        self.rng = rng
        self.tick = sim.tick
        ses = sim.session
        self.interval_s = ses.interval.total_seconds()
        self.last_seq = ses.n_snapshots - 1
        self.edge_ticks = math.ceil(cfg.min_edge / self.tick - 1e-9)
        self._busy = np.full(sim.n_strikes, -1, np.int64)
        self._pad = self.n_snap(10.0)
        self._max_delay = max(self.n_snap(120.0), 3)
        self._max_delay_snapshot = max(self.n_snap(600.0), 3)
        self._counter = 0
        self._labels: list[dict] = []
        self.skipped: list[dict] = []
        self.active: list[Injection] = []
        self.pending: list[_Due] = []
        self._snap_pending: list[_Due] = []
        self._no_onset_at = -1
        self._blackout = (-1, -2)  # no onsets in these snapshots (inclusive), e.g. around a gap
        self._last_snapshot_action = -10
        self._touched_this_step = False
        self._delta_cache: tuple[int, np.ndarray] | None = None
        if cfg.enabled:
            self._schedule(ses.hours)

    # ------------------------------------------------------------- schedule
    def n_snap(self, seconds: float) -> int:
        return max(1, round(seconds / self.interval_s))

    def duration(self, type_: str) -> int:
        lo, hi = self.cfg.duration_s[type_]
        return self.n_snap(self.rng.uniform(lo, hi))

    def _schedule(self, hours: float) -> None:
        warm = min(max(self.n_snap(self.cfg.warmup_s), 1), self.last_seq)
        hi = self.last_seq - 1  # leave room for an out-of-order pair
        for type_ in INJECTED_TYPES:
            x = self.cfg.rates.get(type_, 0.0) * hours
            count = int(math.floor(x)) + int(self.rng.random() < x - math.floor(x))
            if count == 0 or hi < warm:
                continue
            seqs = np.sort(self.rng.integers(warm, hi + 1, count))
            for s in seqs.tolist():
                sub = None
                if type_ == "data_error":
                    sub = str(self.rng.choice(list(self.cfg.data_error_subtypes)))
                elif type_ == "arbitrage":
                    sub = "butterfly" if self.rng.random() < 0.5 else "vertical"
                due = _Due(s, type_, sub, s)
                (self._snap_pending if sub in SNAPSHOT_LEVEL else self.pending).append(due)
        self.pending.sort(key=lambda d: d.seq)
        self._snap_pending.sort(key=lambda d: d.seq)

    def next_id(self) -> str:
        self._counter += 1
        return f"{self.sim.underlying}-{self.sim.expiry.isoformat()}-{self._counter:04d}"

    # ---------------------------------------------------------------- helpers
    def abs_delta(self, st: Step) -> np.ndarray:
        """|forward delta| per contract (cached per snapshot)."""
        if self._delta_cache is not None and self._delta_cache[0] == st.seq:
            return self._delta_cache[1]
        n = st.vol.shape[0]
        out = np.abs(forward_delta(np.full(n, st.forward), self.sim.strike, np.full(n, st.t), st.vol, self.sim.is_call))
        self._delta_cache = (st.seq, out)
        return out

    def candidates(
        self,
        st: Step,
        *,
        priced: bool,
        two_sided: bool = True,
        delta: tuple[float, float] | None = None,
        mask_only: bool = False,
    ):
        """Contracts on free strikes; two-sided (bid >= 2 ticks); worth >= min_premium if ``priced``."""
        free = self.free_strikes(st.seq)
        ok = np.concatenate([free, free])
        if two_sided:
            ok &= st.bid_t >= 2
        if priced:
            ok &= st.fair >= self.cfg.min_premium
        if delta is not None:
            d = self.abs_delta(st)
            ok &= (d >= delta[0]) & (d <= delta[1])
        return ok if mask_only else np.flatnonzero(ok)

    def free_strikes(self, seq: int) -> np.ndarray:
        """Strikes no injection or condition holds at ``seq`` (a bool per strike)."""
        return self._busy < seq

    def reserve(self, strikes: list[int], until_seq: int, pad_strikes: int = 2, pad_snapshots: int | None = None):
        """Keep injections off these strikes (and ``pad_strikes`` either side) until ``until_seq`` plus a pad."""
        pad = self._pad if pad_snapshots is None else pad_snapshots
        lo = max(min(strikes) - pad_strikes, 0)
        hi = min(max(strikes) + pad_strikes, self.sim.n_strikes - 1)
        self._busy[lo : hi + 1] = np.maximum(self._busy[lo : hi + 1], until_seq + pad)

    def block_onsets(self, first_seq: int, last_seq: int) -> None:
        """No injection starts in [first_seq, last_seq]; the due ones wait."""
        self._blackout = (first_seq, last_seq)

    def wants_calm(self, seq: int) -> bool:
        """True when an iv_jump is due: its onset must not coincide with a spot jump."""
        for d in self.pending:
            if d.seq > seq:
                break
            if d.type == "iv_jump":
                return True
        return False

    # ------------------------------------------------------------ per snapshot
    def begin_due(self, st: Step) -> None:
        self._touched_this_step = bool(self.active)
        if not self.pending or st.seq == self._no_onset_at or self._blackout[0] <= st.seq <= self._blackout[1]:
            return
        keep: list[_Due] = []
        for i, d in enumerate(self.pending):
            if d.seq > st.seq:
                keep.extend(self.pending[i:])
                break
            inj = self.kinds[d.type].begin(self, st, d.subtype)
            if inj is None:
                if st.seq - d.first_due >= self._max_delay:
                    self._skip(d, st.ts, "no eligible contract")
                else:
                    d.seq = st.seq + 1
                    keep.append(d)
                continue
            self.active.append(inj)
            self._touched_this_step = True
            self.reserve(inj.strike_indexes, inj.end_seq)
        keep.sort(key=lambda d: d.seq)
        self.pending = keep

    def vol_adjustments(self, st: Step) -> dict[int, float]:
        out: dict[int, float] = {}
        for inj in self.active:
            out.update(inj.vol_adjust(st, st.seq - inj.start_seq))
        return out

    def apply_quotes(self, st: Step) -> None:
        for inj in self.active:
            inj.quotes(st, st.seq - inj.start_seq)

    def apply_volume(self, st: Step) -> None:
        for inj in self.active:
            inj.flow(st, st.seq - inj.start_seq)

    def apply_errors(self, st: Step) -> None:
        for inj in self.active:
            inj.errors(st, st.seq - inj.start_seq)

    def check_collateral(self, st: Step) -> None:
        for inj in self.active:
            if inj.checks_collateral:
                inj.implies |= collateral(st, inj, self.sim, st.seq == inj.start_seq)

    def end_step(self, st: Step) -> bool:
        """Close injections that end here; True when no injection touched this snapshot."""
        clean = not self._touched_this_step
        still = []
        for inj in self.active:
            if st.seq >= inj.end_seq:
                self._finish(inj, st.ts)
            else:
                still.append(inj)
        self.active = still
        return clean

    def finish(self) -> None:
        """End of the run (or an abandoned iterator): close what is still open."""
        last = self.sim.session.ts(self.last_seq)
        for inj in self.active:
            self._finish(inj, max(inj.start_ts, min(last, self.sim.session.ts(inj.end_seq))))
        self.active = []
        for d in self.pending + self._snap_pending:
            self._skip(d, self.sim.session.ts(min(d.seq, self.last_seq)), "window ended")
        self.pending, self._snap_pending = [], []

    # ---------------------------------------------------------- snapshot-level
    def snapshot_action(self, seq: int, clean: bool, last: bool) -> str | None:
        if not self._snap_pending or self._snap_pending[0].seq > seq:
            return None
        d = self._snap_pending[0]
        if clean and not last and seq - self._last_snapshot_action > 3:
            self._snap_pending.pop(0)
            self._last_snapshot_action = seq
            if d.subtype == "out_of_order":
                self._no_onset_at = seq + 1
            return d.subtype
        if seq - d.first_due >= self._max_delay_snapshot:
            self._snap_pending.pop(0)
            self._skip(d, self.sim.session.ts(seq), "no clean snapshot")
        return None

    def record_out_of_order(self, seq: int, ts: datetime, ts_next: datetime) -> None:
        self._labels.append(
            self._label("data_error", "out_of_order", None, None, ts, ts_next, (),
                        {"seq": seq, "emitted_after_seq": seq + 1}, self.next_id())
        )

    def record_stale(self, old_seq: int, old_ts: datetime, ts: datetime, seq: int) -> None:
        self._labels.append(
            self._label("data_error", "stale", None, None, old_ts, ts, (),
                        {"repeated_seq": old_seq, "emitted_after_seq": seq}, self.next_id())
        )

    # ------------------------------------------------------------------ labels
    def labels(self) -> list[dict]:
        return sorted(self._labels, key=lambda lb: (lb["start"], lb["id"]))

    def _label(self, type_, subtype, right, strike, start, end, implies, detail, id_) -> dict:
        detail = dict(detail)
        detail["interval_s"] = self.interval_s
        return make_label(
            id=id_, type=type_, subtype=subtype, underlying=self.sim.underlying,
            expiry=self.sim.expiry.isoformat(), right=right, strike=strike,
            start=start, end=end, implies=implies, detail=detail,
        )

    def _finish(self, inj: Injection, end_ts: datetime) -> None:
        if inj.type == "arbitrage":
            inj.detail["strike_step"] = float(self.sim.config.strike_step)
        self._labels.append(
            self._label(inj.type, inj.subtype, inj.right, inj.strike, inj.start_ts, end_ts,
                        inj.implies, inj.detail, inj.id)
        )

    def _skip(self, d: _Due, ts: datetime, reason: str) -> None:
        self.skipped.append({"type": d.type, "subtype": d.subtype, "due": ts.isoformat(), "reason": reason})


def collateral(st: Step, inj: Injection, sim: Day, onset: bool) -> set[str]:
    """Types other detectors could legitimately report on the contracts ``inj`` touched (zero tolerance)."""
    out: set[str] = set()
    tick = sim.tick
    nk = sim.n_strikes
    bid = np.where(st.bid_t > 0, st.bid_t, 0) * tick
    ask = np.maximum(st.ask_t, 1) * tick
    for i in inj.idx:
        if st.fair[i] < bid[i] - _EPS or st.fair[i] > ask[i] + _EPS:
            out.add("mispricing")
        if onset:
            db = int(st.bid_t[i] - st.base_bid_t[i])
            da = int(st.ask_t[i] - st.base_ask_t[i])
            half = st.base_ask_t[i] - st.base_bid_t[i]  # (da + db) / 2 vs width / 2, both doubled
            if db * da > 0 and abs(da + db) >= half:
                out.add("iv_jump")
    pv_unit = st.df * sim.config.strike_step
    for j in sorted({i % nk for i in inj.idx}):
        c, p = j, nk + j
        pv = st.df * (st.forward - sim.strike[c])
        if bid[c] - ask[p] > pv + _EPS or bid[p] - ask[c] > -pv + _EPS:
            out.add("parity")
        for base, is_call in ((0, True), (nk, False)):
            for a in range(max(j - 1, 0), min(j + 1, nk - 1)):  # verticals (a, a+1) touching j
                lo, hi = base + a, base + a + 1
                if is_call and (bid[hi] > ask[lo] + _EPS or bid[lo] - ask[hi] > pv_unit + _EPS):
                    out.add("arbitrage")
                if not is_call and (bid[lo] > ask[hi] + _EPS or bid[hi] - ask[lo] > pv_unit + _EPS):
                    out.add("arbitrage")
            for b in range(max(j - 1, 1), min(j + 1, nk - 2) + 1):  # butterflies with j as body or wing
                if 2 * bid[base + b] > ask[base + b - 1] + ask[base + b + 1] + _EPS:
                    out.add("arbitrage")
    out.discard(inj.type)
    return out
