"""One-line glitches: fat-finger quotes (labelled data errors) and pulled bids (ordinary, unlabelled).

A fat finger replaces one line's quote for 1 to 3 snapshots, then the line is
normal again. Kinds:

- ``multiple``: bid at 5 to 15 times fair, ask the bid plus the line's usual width;
- ``decimal``: both sides times 10 or divided by 10 (a slipped decimal point);
- ``ask_zero``: an ask of 0 under a normal bid;
- ``swap``: bid and ask exchanged (crossed by the width);
- ``one_line_iv``: both sides repriced at the line's IV plus 30 to 80 vol points.

A pull takes the bid off a near-the-money line for a few seconds (bid null,
bid size 0); the ask and everything else stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spyglass.analytics.black import black_price
from spyglass.sim import model
from spyglass.sim.conditions import FatFingers, OneSidedPulls
from spyglass.sim.day import Day
from spyglass.sim.episodes import Episodes, condition_label, forward_strike, n_snap
from spyglass.sim.step import Step


@dataclass
class FatFinger:
    id: str
    line: int
    kind: str
    factor: float
    start_seq: int
    end_seq: int
    quote_t: tuple[int, int] | None = None  # the bad (bid, ask) in ticks, fixed at onset
    detail: dict = field(default_factory=dict)


class FatFingerQuotes(Episodes):
    name = "fat_finger"

    def __init__(self, cfg: FatFingers, sim: Day, rng: np.random.Generator) -> None:
        super().__init__(sim, rng, cfg.rate_per_hour, cfg.warmup_s)
        self.cfg = cfg
        self.active: list[FatFinger] = []
        self.count = 0

    def begin(self, st: Step) -> None:
        self.pending.take(st.seq, lambda seq: self._start(st))

    def _start(self, st: Step) -> bool:
        cfg, sim, rng = self.cfg, self.sim, self.rng
        u_line, u_kind, u_coin = rng.random(3)
        factor = float(rng.uniform(*cfg.multiple))
        dv = float(rng.uniform(*cfg.vol_points))
        n = int(rng.integers(cfg.snapshots[0], cfg.snapshots[1] + 1))
        free = np.tile(sim.schedule.free_strikes(st.seq), 2)
        delta = sim.schedule.abs_delta(st)
        ok = free & (st.bid_t >= 2) & (st.fair >= cfg.min_fair) & (delta >= cfg.near_delta[0]) & (
            delta <= cfg.near_delta[1])
        cand = np.flatnonzero(ok)
        if not cand.size:
            return False
        i = int(cand[min(int(u_line * cand.size), cand.size - 1)])
        kind = cfg.kinds[min(int(u_kind * len(cfg.kinds)), len(cfg.kinds) - 1)]
        if kind == "decimal":
            factor = 0.1 if u_coin < 0.5 and st.bid_t[i] >= 50 else 10.0
        elif kind == "one_line_iv":
            factor = dv
        elif kind != "multiple":
            factor = 1.0
        end = min(st.seq + n - 1, sim.session.n_snapshots - 1)
        self.count += 1
        id_ = f"{sim.underlying}-{sim.expiry.isoformat()}-ff-{self.count:03d}"
        self.active.append(FatFinger(id_, i, kind, factor, st.seq, end))
        sim.schedule.reserve([i % sim.n_strikes], end)
        return True

    def _bad_quote(self, st: Step, f: FatFinger) -> tuple[int, int]:
        i = f.line
        b, a = int(st.bid_t[i]), int(st.ask_t[i])
        tick = self.sim.tick
        if f.kind == "multiple":
            bid = max(int(round(f.factor * st.fair[i] / tick)), 1)
            return bid, bid + (a - b)
        if f.kind == "decimal":
            if f.factor > 1:
                return b * 10, a * 10
            lo, hi = b // 10, -(-a // 10)
            return lo, max(hi, lo + 1)
        if f.kind == "ask_zero":
            return b, 0
        if f.kind == "swap":
            return a, b
        sim = self.sim  # one_line_iv
        vol = np.array([st.vol[i] + f.factor / 100.0])
        fair = black_price(np.array([st.forward]), sim.strike[i : i + 1], np.array([st.t]), np.array([sim.rate]),
                           vol, sim.is_call[i : i + 1])
        width = model.spread_ticks(fair, tick, st.minutes_to_close, np.zeros(1), sim.liquidity)
        bid, ask = model.quote_ticks(fair, width, np.zeros(1), tick)
        return int(max(bid[0], 1)), int(ask[0])

    def apply(self, st: Step) -> None:
        """Show the bad quote of every active fat finger; close those that end here."""
        still = []
        for f in self.active:
            i = f.line
            if f.quote_t is None:
                f.quote_t = self._bad_quote(st, f)
                f.detail = {
                    "kind": f.kind,
                    "quotes": {"bid": self._dollars(f.quote_t[0]), "ask": self._dollars(f.quote_t[1])},
                    "normal": {"bid": self._dollars(int(st.bid_t[i])), "ask": self._dollars(int(st.ask_t[i]))},
                    "fair": float(st.fair[i]),
                    "factor": f.factor if f.kind in ("multiple", "decimal") else None,
                    "vol_points": f.factor if f.kind == "one_line_iv" else None,
                }
            st.bid[i], st.ask[i] = (self._dollars(x) for x in f.quote_t)
            st.no_bid[i] = st.no_ask[i] = False
            if st.seq >= f.end_seq:
                self._close(f)
            else:
                still.append(f)
        self.active = still

    def _dollars(self, ticks: int) -> float:
        return float(self.sim.to_dollars(np.array([ticks]))[0])

    def _close(self, f: FatFinger) -> None:
        sim = self.sim
        right = "C" if f.line < sim.n_strikes else "P"
        f.detail["snapshots"] = f.end_seq - f.start_seq + 1
        self.labels.append(condition_label(
            sim, f.id, "data_error", "fat_finger", right, float(sim.strike[f.line]),
            sim.session.ts(f.start_seq), sim.session.ts(f.end_seq), (), f.detail))

    def finish(self, last_seq: int) -> None:
        for f in self.active:
            f.end_seq = max(f.start_seq, min(f.end_seq, last_seq))
            if f.quote_t is not None:
                self._close(f)
        self.active = []
        self.pending.finish()


class BidPulls(Episodes):
    """Near-the-money bids pulled for a few seconds: normal market behaviour, no label."""

    name = "pull"

    def __init__(self, cfg: OneSidedPulls, rate_per_hour: float, sim: Day,
                 rng: np.random.Generator) -> None:
        super().__init__(sim, rng, rate_per_hour, 0.0)
        self.cfg = cfg
        self.active: list[tuple[int, int]] = []  # (line, last seq)
        self.count = 0
        self.line_snapshots = 0

    def begin(self, st: Step) -> None:
        self.pending.take(st.seq, lambda seq: self._start(st))

    def _start(self, st: Step) -> bool:
        sim, rng = self.sim, self.rng
        u_line = rng.random()
        n = n_snap(float(rng.uniform(*self.cfg.duration_s)), self.iv)
        nk = sim.n_strikes
        jf = forward_strike(sim, st.forward)
        near = np.abs(np.arange(nk) - jf) <= self.cfg.near_strikes
        ok = np.tile(near & sim.schedule.free_strikes(st.seq), 2) & (st.bid_t >= 1)
        cand = np.flatnonzero(ok)
        if not cand.size:
            return False
        i = int(cand[min(int(u_line * cand.size), cand.size - 1)])
        end = min(st.seq + n - 1, sim.session.n_snapshots - 1)
        self.active.append((i, end))
        self.count += 1
        sim.schedule.reserve([i % nk], end, pad_strikes=0, pad_snapshots=1)
        return True

    def apply(self, st: Step) -> None:
        still = []
        for i, end in self.active:
            st.no_bid[i] = True
            st.bid_size[i] = 0
            self.line_snapshots += 1
            if st.seq < end:
                still.append((i, end))
        self.active = still

    def finish(self) -> None:
        self.active = []
        self.pending.finish()
