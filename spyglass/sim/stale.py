"""Stale blocks: adjacent near-the-money lines that stop updating while the market moves under them.

A block is 3 to 8 adjacent strikes near the forward, calls, puts or (most
often) both legs, so the call/put pairs that set the forward can freeze
together. From its first frozen snapshot to its last, each line shows exactly
what it showed just before: bid, ask, sizes, last and cumulative volume (the
trades go on; the feed does not say). The first fresh snapshot after it
carries the volume done meanwhile.

Each frozen line is labelled data_error/stale_quote with ``material_from``:
the first snapshot at which the true fair value has moved, since the freeze,
by what the documented rule (docs/detectors.md, quote freshness) calls a
stale price: more than ``STALE_HALF_SPREADS`` half-spreads h of the frozen
quote (half a tick when one-sided) plus a tick, on a line worth at least
``MIN_PRICE`` then or now (a penny line is no price that matters); a
one-sided quote is a bound, passed only the way that makes it wrong (an ask
alone from below, a bid alone from above). Null means nothing in the prices
could show the freeze.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spyglass.contract import iso_ms
from spyglass.sim.conditions import StaleBlocks
from spyglass.sim.day import Day
from spyglass.sim.display import Shown
from spyglass.sim.episodes import Episodes, condition_label, forward_strike, n_snap
from spyglass.sim.step import Step


_TRIES = 6
_EPS = 1e-9
STALE_HALF_SPREADS = 2.0  # the documented freshness rule (DetectorConfig.stale_half_spreads)
MIN_PRICE = 0.05  # ...judged only above the penny level (DetectorConfig.min_price)


def material_band(fair0: np.ndarray, bid: np.ndarray, ask: np.ndarray, no_bid: np.ndarray, no_ask: np.ndarray,
                  tick: float):
    """The fair values a line frozen when worth ``fair0`` can reach before the documented rule calls it stale:
    fair0 +- (2 h + a tick), h the frozen quote's half-spread (half a tick when one-sided); a one-sided quote is a
    bound, so an ask alone is only passed from below and a bid alone from above; a line worth pennies then must
    also be worth ``MIN_PRICE`` now (a penny line is no price that matters)."""
    two = ~no_bid & ~no_ask
    h = np.where(two, np.fmax((ask - bid) / 2.0, tick / 2.0), tick / 2.0)
    reach = STALE_HALF_SPREADS * h + tick
    penny = fair0 < MIN_PRICE - _EPS
    lo = np.where(penny | (no_bid & ~no_ask), -np.inf, fair0 - reach)
    hi = np.where(~no_bid & no_ask, np.inf, np.where(penny, np.fmax(fair0 + reach, MIN_PRICE), fair0 + reach))
    return lo, hi


def _finite(x: float) -> float | None:
    return round(float(x), 6) if np.isfinite(x) else None


def outside(fair: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return (fair < lo - _EPS) | (fair > hi + _EPS)


def first_material(fairs: np.ndarray, lo: float, hi: float) -> int | None:
    """Index of the first fair value (one line, snapshot by snapshot) outside [lo, hi], else None."""
    hit = np.flatnonzero(outside(np.asarray(fairs, float), lo, hi))
    return int(hit[0]) if hit.size else None


@dataclass
class Block:
    id: str
    lines: np.ndarray
    legs: str
    start_seq: int
    end_seq: int | None  # None while a deep block waits for its lines to turn material
    min_end: int
    max_end: int
    deep: bool
    deep_extra: int
    frozen: Shown
    lo: np.ndarray
    hi: np.ndarray
    material_seq: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.material_seq = np.full(self.lines.shape[0], -1, np.int64)


class StaleQuotes(Episodes):
    name = "stale_quote"

    def __init__(self, cfg: StaleBlocks, sim: Day, rng: np.random.Generator, age_field: bool) -> None:
        super().__init__(sim, rng, cfg.rate_per_hour, cfg.warmup_s, end_margin=1)
        self.cfg = cfg
        self.age_field = age_field
        self.active: list[Block] = []
        self.blocks = 0
        self._seen = -1
        w = np.array(list(cfg.legs.values()), float)
        self._legs, self._leg_p = list(cfg.legs), w / w.sum()

    def begin(self, st: Step, before: Shown | None) -> None:
        if before is not None:
            self.pending.take(st.seq, lambda seq: self._start(st, before))

    def _start(self, st: Step, before: Shown) -> bool:
        cfg, sim, rng = self.cfg, self.sim, self.rng
        nk = sim.n_strikes
        m = min(int(rng.integers(cfg.strikes[0], cfg.strikes[1] + 1)), nk)
        offsets = rng.integers(-cfg.near_strikes, cfg.near_strikes + 1, _TRIES)
        leg = self._legs[int(rng.choice(len(self._legs), p=self._leg_p))]
        deep = bool(rng.random() < cfg.deep_share)
        dur = n_snap(float(rng.uniform(*cfg.duration_s)), self.iv)
        extra = n_snap(float(rng.uniform(*cfg.deep_extra_s)), self.iv)
        free = sim.schedule.free_strikes(st.seq)
        jf = forward_strike(sim, st.forward)
        for off in offsets.tolist():
            lo = jf + off - (m - 1) // 2
            hi = lo + m - 1
            if lo >= 0 and hi < nk and free[lo : hi + 1].all():
                break
        else:
            return False
        js = np.arange(lo, hi + 1)
        lines = np.concatenate([js if leg in ("both", "C") else js[:0], nk + js if leg in ("both", "P") else js[:0]])
        frozen = before.subset(lines)
        if np.isnan(frozen.bid).any() or np.isnan(frozen.ask).any():
            return False
        band_lo, band_hi = material_band(st.fair[lines], frozen.bid, frozen.ask, frozen.no_bid, frozen.no_ask,
                                         sim.tick)
        s = st.seq
        last = sim.session.n_snapshots - 1
        lo_n, hi_n = (n_snap(x, self.iv) for x in cfg.duration_s)
        max_end = min(s + (hi_n if deep else dur) - 1, last)
        end = None if deep else max_end
        self.blocks += 1
        block_id = f"{sim.underlying}-{sim.expiry.isoformat()}-stale-{self.blocks:03d}"
        self.active.append(Block(block_id, lines, leg, s, end, min(s + lo_n - 1, max_end), max_end, deep,
                                 extra, frozen, band_lo, band_hi))
        sim.schedule.reserve(js.tolist(), max_end)
        return True

    def apply(self, st: Step) -> None:
        """Show every active block's frozen values."""
        for b in self.active:
            b.frozen.show_on(st, b.lines, source_idx=np.arange(b.lines.shape[0]))

    def check(self, st: Step) -> None:
        """Materiality against the true fair value; deep blocks end once most lines are; close ended blocks."""
        self._seen = st.seq
        still = []
        for b in self.active:
            fair = st.fair[b.lines]
            out = outside(fair, b.lo, b.hi)
            b.material_seq = np.where(out & (b.material_seq < 0), st.seq, b.material_seq)
            if b.end_seq is None and (b.material_seq >= 0).mean() >= self.cfg.deep_material - 1e-9:
                b.end_seq = min(max(st.seq + b.deep_extra, b.min_end), b.max_end)
            if b.end_seq is None and st.seq >= b.max_end:
                b.end_seq = st.seq
            if b.end_seq is not None and st.seq >= b.end_seq:
                self._close(b, st.seq)
            else:
                still.append(b)
        self.active = still

    def finish(self) -> None:
        for b in self.active:
            self._close(b, max(b.start_seq, self._seen))
        self.active = []
        self.pending.finish()

    def _close(self, b: Block, end_seq: int) -> None:
        sim = self.sim
        ses = sim.session
        nk = sim.n_strikes
        strikes = [float(sim.strike[i]) for i in b.lines]
        for k, i in enumerate(b.lines.tolist()):
            right = "C" if i < nk else "P"
            mat = int(b.material_seq[k])
            detail = {
                "block": b.id,
                "age_field": self.age_field,
                "material_from": iso_ms(ses.ts(mat)) if 0 <= mat <= end_seq else None,
                "legs": b.legs,
                "lines": int(b.lines.shape[0]),
                "strikes": [min(strikes), max(strikes)],
                "deep": b.deep,
                "frozen_bid": None if b.frozen.no_bid[k] else float(b.frozen.bid[k]),
                "frozen_ask": None if b.frozen.no_ask[k] else float(b.frozen.ask[k]),
                "band": [_finite(b.lo[k]), _finite(b.hi[k])],  # the fair values it stood for (null: unbounded)
                "duration_s": (end_seq - b.start_seq + 1) * self.iv,
            }
            self.labels.append(condition_label(
                sim, f"{b.id}-{right}{strikes[k]:g}", "data_error", "stale_quote", right, strikes[k],
                ses.ts(b.start_seq), ses.ts(end_seq), (), detail))
