"""A gap: spot jumps and the whole smile reprices at once, a chain-level iv_jump/smile_shift.

At the first snapshot at or after ``Gap.at`` spot moves by ``move`` (up or
down), the ATM vol level is multiplied by ``vol_factor`` and the skew by
``skew_factor`` for the rest of the day. Quotes do not all move in the same
instant: each line draws a lag in ``lag_s`` and shows its last pre-jump quote
for ``floor(lag / interval)`` snapshots. The label spans the first snapshot
after the jump to the end of the repricing window (``start + lag_s[1]``, on
the snapshot grid) and implies data_error: a lagging quote may rightly be
called stale.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np

from spyglass.clock import NEW_YORK
from spyglass.sim.conditions import Gap
from spyglass.sim.day import Day
from spyglass.sim.display import Shown
from spyglass.sim.episodes import condition_label, n_snap
from spyglass.sim.step import Step
from spyglass.sim.trades import Burst


BLACKOUT_S = 10.0  # no injection starts this close to the jump: its label would be confounded with it


class GapEvent:
    def __init__(self, cfg: Gap, sim: Day, rng: np.random.Generator) -> None:
        self.cfg = cfg
        self.sim = sim
        ses = sim.session
        self.iv = ses.interval.total_seconds()
        coin = rng.random()
        self.sign = cfg.direction or (1 if coin < 0.5 else -1)
        lags = rng.uniform(cfg.lag_s[0], cfg.lag_s[1], sim.n)
        self.held = np.floor(lags / self.iv + 1e-9).astype(np.int64)
        self.window = int(math.floor(cfg.lag_s[1] / self.iv + 1e-9))
        at = datetime.combine(ses.trading_date, cfg.at, NEW_YORK).astimezone(timezone.utc)
        g = math.ceil((at - ses.start) / ses.interval)
        self.seq: int | None = g if 1 <= g < ses.n_snapshots else None
        self.skipped = [] if self.seq is not None else [
            {"type": "iv_jump", "subtype": "smile_shift", "due": at.isoformat(), "reason": "outside the window"}]
        self.at_s = (at - ses.open).total_seconds()
        self._before: tuple[float, float] | None = None  # (spot, atm vol) of the last pre-jump snapshot
        self._after: tuple[float, float] | None = None
        self._labels: list[dict] = []
        if self.seq is not None:
            pad = n_snap(BLACKOUT_S, self.iv)
            sim.schedule.block_onsets(self.seq - pad, self.seq + self.window + pad)

    @property
    def labels(self) -> list[dict]:
        return self._labels

    def burst(self) -> Burst | None:
        """Trading picks up after the jump."""
        if self.seq is None or self.cfg.volume_boost <= 0:
            return None
        return Burst(self.at_s, self.cfg.volume_boost, self.cfg.volume_decay_s)

    def after(self, seq: int) -> bool:
        return self.seq is not None and seq >= self.seq

    def spot_factor(self, seq: int) -> float:
        return 1.0 + self.sign * self.cfg.move if self.seq is not None and seq == self.seq else 1.0

    def smile(self, seq: int, atm: float, skew: float) -> tuple[float, float]:
        if self.after(seq):
            return atm * self.cfg.vol_factor, skew * self.cfg.skew_factor
        return atm, skew

    def begin(self, st: Step) -> None:
        """At the jump: lines busy with another episode reprice at once (their quote is that episode's)."""
        if st.seq == self.seq:
            busy = ~np.tile(self.sim.schedule.free_strikes(st.seq), 2)
            self.held[busy] = 0

    def hold(self, st: Step, before: Shown | None) -> None:
        """Lagging lines show their last pre-jump quote."""
        if before is None or not self.after(st.seq) or st.seq - self.seq >= self.window:
            return
        idx = np.flatnonzero(self.held > st.seq - self.seq)
        if idx.size:
            before.show_on(st, idx, Shown.QUOTE)

    def observe(self, st: Step) -> None:
        """Record the levels either side of the jump; label at the end of the repricing window."""
        if self.seq is None:
            return
        if st.seq == self.seq - 1:
            self._before = (st.spot, st.atm_vol)
        elif st.seq == self.seq:
            self._after = (st.spot, st.atm_vol)
        last = self.sim.session.n_snapshots - 1
        if st.seq == min(self.seq + self.window, last):
            self._label(st.seq)

    def _label(self, end_seq: int) -> None:
        sim, cfg = self.sim, self.cfg
        (s0, v0), (s1, v1) = self._before, self._after
        detail = {
            "direction": "up" if self.sign > 0 else "down",
            "spot_move": self.sign * cfg.move,
            "spot_before": s0,
            "spot_after": s1,
            "atm_vol_before": v0,
            "atm_vol_after": v1,
            "vol_factor": cfg.vol_factor,
            "skew_factor": cfg.skew_factor,
            "lag_s": list(cfg.lag_s),
            "lagging_lines": int((self.held > 0).sum()),
            "max_lag_snapshots": int(self.held.max(initial=0)),
        }
        self._labels.append(condition_label(
            sim, f"{sim.underlying}-{sim.expiry.isoformat()}-gap", "iv_jump", "smile_shift", None, None,
            sim.session.ts(self.seq), sim.session.ts(end_seq), ("data_error",), detail))
