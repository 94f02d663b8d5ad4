"""The conditions of a messy feed, applied to each snapshot of a simulated day in a fixed order.

After the clean quote and the injections (integer ticks, then prices):

1. pulled bids (``OneSidedPulls``), then fat-finger quotes (``FatFingers``);
2. size flicker of lines that ticked without moving (``QuoteAges``);
3. lines lagging a gap show their pre-jump quote (``Gap``);
4. stale blocks show their frozen values, volume and last included (``StaleBlocks``);
5. quote ages from what is finally shown, against what was shown before;
6. materiality of stale lines against the true fair value; labels of what ended.

Conditions reserve the strikes they use in the schedule, so injections and
conditions never share a line (nor the two strikes either side, except pulls).
"""

from __future__ import annotations

from spyglass.sim.ages import QuoteClock
from spyglass.sim.conditions import child_rng
from spyglass.sim.day import Day
from spyglass.sim.display import Shown, quote_changed
from spyglass.sim.gap import GapEvent
from spyglass.sim.glitches import BidPulls, FatFingerQuotes
from spyglass.sim.stale import StaleQuotes
from spyglass.sim.step import Step


class Mess:
    def __init__(self, sim: Day) -> None:
        cfg = sim.config
        liq = sim.liquidity
        iv = sim.session.interval.total_seconds()
        self.sim = sim
        ages = cfg.quote_ages
        self.age_field = bool(ages is not None and ages.field)
        self.clock = None if ages is None else QuoteClock(
            ages, liq.ticks_per_s, liq.ticks_per_s_far, sim.strike, iv, child_rng(cfg.seed, "ages"))
        self.gap = None if cfg.gap is None else GapEvent(cfg.gap, sim, child_rng(cfg.seed, "gap"))
        self.stale = None if cfg.stale_blocks is None else StaleQuotes(
            cfg.stale_blocks, sim, child_rng(cfg.seed, "stale"), self.age_field)
        self.fat = None if cfg.fat_fingers is None else FatFingerQuotes(
            cfg.fat_fingers, sim, child_rng(cfg.seed, "fat_fingers"))
        pulls = cfg.one_sided_pulls
        self.pulls = None if pulls is None else BidPulls(
            pulls, liq.pulls_per_hour if pulls.rate_per_hour is None else pulls.rate_per_hour, sim,
            child_rng(cfg.seed, "pulls"))
        self.before: Shown | None = None

    def begin(self, st: Step) -> None:
        """Episodes due at this snapshot pick their lines (after the injections picked theirs)."""
        if self.stale is not None:
            self.stale.begin(st, self.before)
        if self.fat is not None:
            self.fat.begin(st)
        if self.pulls is not None:
            self.pulls.begin(st)
        if self.gap is not None:
            self.gap.begin(st)

    def apply(self, st: Step) -> None:
        """Edit what this snapshot shows (see the module docstring for the order)."""
        sim, before = self.sim, self.before
        st.volume_shown = sim.cumulative_volume.copy()
        st.last_shown = sim.last_price.copy()
        if self.clock is not None:
            self.clock.draw(st.spot)
        if self.pulls is not None:
            self.pulls.apply(st)
        if self.fat is not None:
            self.fat.apply(st)
        if self.clock is not None and before is not None:
            self.clock.flicker(st, before, quote_changed(st, before))
        if self.gap is not None:
            self.gap.hold(st, before)
        if self.stale is not None:
            self.stale.apply(st)
        if self.clock is not None:
            ages = self.clock.update(None if before is None else quote_changed(st, before))
            if self.age_field:
                st.quote_age_ms = ages
        if self.stale is not None:
            self.stale.check(st)
        if self.gap is not None:
            self.gap.observe(st)
        self.before = Shown.of(st)

    def labels(self) -> list[dict]:
        out: list[dict] = []
        for c in (self.stale, self.fat, self.gap):
            if c is not None:
                out += c.labels
        return out

    @property
    def skipped(self) -> list[dict]:
        out: list[dict] = []
        for c in (self.stale, self.fat):
            if c is not None:
                out += c.pending.skipped
        if self.gap is not None:
            out += self.gap.skipped
        return out

    def finish(self, last_seq: int) -> None:
        if self.stale is not None:
            self.stale.finish()
        if self.fat is not None:
            self.fat.finish(last_seq)
        if self.pulls is not None:
            self.pulls.finish()
