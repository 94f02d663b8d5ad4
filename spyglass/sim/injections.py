"""The anomaly types the simulator injects, one class each.

An injection is chosen at its onset from the live chain (``begin`` returns None
when no contract fits, and the scheduler retries on the next snapshot), then
edits each snapshot it spans through four hooks, in this order:
``vol_adjust`` (before pricing), ``quotes`` (integer ticks), ``flow`` (sizes and
interval volume) and ``errors`` (the float prices, for data errors).
Price injections re-check their size every snapshot and only ever grow it, so
the labelled edge holds while the market moves under them.

The hooks are ``schedule.Injection``'s; ``INJECTIONS`` is handed to the
``Schedule`` by the simulator, so the schedule does not import this module.
"""

from __future__ import annotations

import math

import numpy as np

from spyglass.analytics.black import black_price
from spyglass.sim.schedule import Injection, Schedule
from spyglass.sim.step import Step


def _ticks(x: float) -> int:
    return int(math.ceil(x - 1e-9))


class Mispricing(Injection):
    """One contract's whole quote moved off fair value by several half-spreads and >= min_edge."""

    type = "mispricing"

    @classmethod
    def begin(cls, ctx: Schedule, st: Step, subtype: str | None = None) -> Injection | None:
        cand = ctx.candidates(st, priced=True, delta=(0.03, 0.97))
        if not cand.size:
            return None
        i = int(ctx.rng.choice(cand))
        w = int(st.width[i])
        edge_t = ctx.edge_ticks
        sized = ctx.cfg.mispricing_edge_ticks
        if sized is None:
            s = max(_ticks(ctx.rng.uniform(3, 6) * w / 2), w + 1 + edge_t + int(ctx.rng.integers(0, 3)))
            sign = 1 if ctx.rng.random() < 0.5 else -1
            if sign < 0 and st.bid_t[i] - s < 2:
                sign = 1
        else:  # smaller sizes: exactly enough shift for an edge of k ticks beyond the opposite side
            edge_t = int(ctx.rng.integers(sized[0], sized[1] + 1))
            fair_t = st.fair[i] / ctx.tick
            sign = 1 if ctx.rng.random() < 0.5 else -1
            s = _ticks(edge_t + st.ask_t[i] - fair_t)
            if sign < 0 and st.bid_t[i] - s < 2:
                sign = 1
            if sign > 0:
                s = _ticks(edge_t + fair_t - st.bid_t[i])
        inj = cls(ctx, st, [i], ctx.duration("mispricing"), {})
        inj.sign, inj.shift, inj.edge_t = sign, s, edge_t
        inj.detail = {
            "direction": "rich" if sign > 0 else "cheap",
            "fair": float(st.fair[i]),
            "half_spread": w * ctx.tick / 2,
            "shift": s * ctx.tick,
        }
        if sized is not None:
            inj.detail["target_edge_ticks"] = edge_t
        return inj

    def quotes(self, st: Step, k: int) -> None:
        i = self.idx[0]
        fair_t = st.fair[i] / self.ctx.tick
        e = self.edge_t
        need = e + fair_t - st.bid_t[i] if self.sign > 0 else e + st.ask_t[i] - fair_t
        self.shift = max(self.shift, _ticks(need))
        st.bid_t[i] += self.sign * self.shift
        st.ask_t[i] += self.sign * self.shift
        if st.bid_t[i] < 1:  # a cheap quote on a decaying premium: keep it two-sided
            st.ask_t[i] += 1 - st.bid_t[i]
            st.bid_t[i] = 1
        if k == 0:
            edge = (st.bid_t[i] - fair_t if self.sign > 0 else fair_t - st.ask_t[i]) * self.ctx.tick
            self.detail["edge_per_share"] = edge
            if self.ctx.cfg.mispricing_edge_ticks is not None:
                self.detail["edge_ticks"] = edge / self.ctx.tick
            self.detail["half_spreads_from_fair"] = abs(st.bid_t[i] + st.ask_t[i] - 2 * fair_t) / max(st.width[i], 1)
        self.detail["max_shift"] = self.shift * self.ctx.tick


class Parity(Injection):
    """Call and put at one strike moved in opposite directions past the put-call parity bounds."""

    type = "parity"

    @classmethod
    def begin(cls, ctx: Schedule, st: Step, subtype: str | None = None) -> Injection | None:
        nk = ctx.sim.n_strikes
        ok = ctx.candidates(st, priced=True, mask_only=True)
        calls, puts = ok[:nk], ok[nk:]
        dc = ctx.abs_delta(st)[:nk]
        js = np.flatnonzero(calls & puts & (dc >= 0.1) & (dc <= 0.9))
        if not js.size:
            return None
        j = int(ctx.rng.choice(js))
        c, p = j, nk + j
        total = int(st.width[c] + st.width[p]) + ctx.edge_ticks + 1 + int(ctx.rng.integers(0, 3))
        sc = (total + 1) // 2
        sp = total - sc
        sign = 1 if ctx.rng.random() < 0.5 else -1  # +1: call rich, put cheap
        if sign > 0 and st.bid_t[p] - sp < 2:
            sign = -1
        if sign < 0 and st.bid_t[c] - sc < 2:
            return None
        inj = cls(ctx, st, [c, p], ctx.duration("parity"), {})
        inj.right = None
        inj.sign, inj.sc, inj.sp = sign, sc, sp
        inj.detail = {"direction": "call_rich_put_cheap" if sign > 0 else "call_cheap_put_rich"}
        return inj

    def quotes(self, st: Step, k: int) -> None:
        c, p = self.idx
        tick = self.ctx.tick
        pv = st.df * (st.forward - self.strike) / tick  # discounted F - K, in ticks
        if self.sign > 0:  # sell call at bid, buy put at ask
            gap = (st.bid_t[c] + self.sc) - (st.ask_t[p] - self.sp) - pv
        else:  # sell put at bid, buy call at ask
            gap = (st.bid_t[p] + self.sp) - (st.ask_t[c] - self.sc) + pv
        short = self.ctx.edge_ticks - gap
        if short > 0:
            if self.sign > 0:
                self.sc += _ticks(short)
            else:
                self.sp += _ticks(short)
            gap += _ticks(short)
        st.bid_t[c] += self.sign * self.sc
        st.ask_t[c] += self.sign * self.sc
        st.bid_t[p] -= self.sign * self.sp
        st.ask_t[p] -= self.sign * self.sp
        if k == 0:
            self.detail.update(call_shift=self.sign * self.sc * tick, put_shift=-self.sign * self.sp * tick)
            self.detail["violation_per_share"] = gap * tick


PLAUSIBLE_MULTIPLE = 2.0


class Arbitrage(Injection):
    """A vertical (monotonicity) or butterfly (convexity) violation at tradeable prices."""

    type = "arbitrage"

    @classmethod
    def begin(cls, ctx: Schedule, st: Step, subtype: str | None = None) -> Injection | None:
        sub = subtype or ("butterfly" if ctx.rng.random() < 0.5 else "vertical")
        nk = ctx.sim.n_strikes
        is_call = ctx.rng.random() < 0.5
        base = 0 if is_call else nk
        priced = ctx.candidates(st, priced=True, mask_only=True)[base : base + nk]
        two = ctx.candidates(st, priced=False, mask_only=True)[base : base + nk]
        delta = ctx.abs_delta(st)[base : base + nk]
        if sub == "butterfly":
            js = [j for j in range(1, nk - 1) if priced[j] and two[j - 1] and two[j + 1] and 0.1 <= delta[j] <= 0.9]
            if not js:
                return None
            j = int(ctx.rng.choice(js))
            legs = [base + j, base + j - 1, base + j + 1]
        else:
            step = 1 if is_call else -1  # raise the cheaper neighbour above the dearer one's ask
            # a violation a market maker could plausibly quote: the raised line stays within PLAUSIBLE_MULTIPLE of
            # its value (further off it is a bad print, which the screen rightly calls a data error)
            raised = (st.ask_t[base : base + nk] + ctx.edge_ticks + 1) * ctx.tick
            fair = st.fair[base : base + nk]
            js = [
                j
                for j in range(nk)
                if 0 <= j + step < nk and two[j] and two[j + step] and 0.05 <= delta[j + step] <= 0.45
                and raised[j] <= PLAUSIBLE_MULTIPLE * fair[j + step]
            ]
            if not js:
                return None
            j = int(ctx.rng.choice(js))
            legs = [base + j + step, base + j]
        inj = cls(ctx, st, legs, ctx.duration("arbitrage"), {})
        inj.subtype = sub
        inj.shift = 0
        inj.detail = {"kind": sub, "strikes": [float(ctx.sim.strike[i]) for i in legs], "shifted": float(inj.strike)}
        return inj

    def _credit(self, st: Step) -> tuple[float, int]:
        """Tradeable credit in ticks (per share of the spread) and how many units of it one tick of shift buys."""
        if self.subtype == "butterfly":
            b, lo, hi = self.idx
            return 2 * st.bid_t[b] - st.ask_t[lo] - st.ask_t[hi], 2
        s, o = self.idx
        return st.bid_t[s] - st.ask_t[o], 1

    def quotes(self, st: Step, k: int) -> None:
        credit, per = self._credit(st)
        need = (self.ctx.edge_ticks - credit) / per + (1 if k == 0 else 0)
        self.shift = max(self.shift, _ticks(need))
        i = self.idx[0]
        st.bid_t[i] += self.shift
        st.ask_t[i] += self.shift
        if k == 0:
            self.detail["edge_per_share"] = self._credit(st)[0] * self.ctx.tick
            self.detail["shift"] = self.shift * self.ctx.tick
        self.detail["max_shift"] = self.shift * self.ctx.tick


class VolumeSpike(Injection):
    """Interval volume of one contract far above its own expected interval volume."""

    type = "volume_spike"
    checks_collateral = False

    @classmethod
    def begin(cls, ctx: Schedule, st: Step, subtype: str | None = None) -> Injection | None:
        if st.seq == 0:
            return None
        free = ctx.candidates(st, priced=False, two_sided=False, mask_only=True)
        ok = free & (st.mu >= ctx.cfg.volume_spike_min_activity * st.mu.max())
        cand = np.flatnonzero(ok)
        if not cand.size:
            return None
        i = int(ctx.rng.choice(cand))
        lo, hi = ctx.cfg.volume_spike_snapshots
        inj = cls(ctx, st, [i], int(ctx.rng.integers(lo, hi + 1)), {})
        inj.multiple = float(ctx.rng.uniform(*ctx.cfg.volume_spike_multiple))
        inj.detail = {"multiple": inj.multiple, "baseline": float(st.mu[i]), "volumes": []}
        return inj

    def flow(self, st: Step, k: int) -> None:
        i = self.idx[0]
        v = max(round(self.multiple * st.mu[i] * self.ctx.rng.uniform(0.8, 1.2)), self.ctx.cfg.volume_spike_min)
        st.interval_volume[i] = v
        self.detail["volumes"].append(int(v))


class SpreadBlowout(Injection):
    """One contract's spread widened several-fold around an unchanged mid."""

    type = "spread_blowout"

    @classmethod
    def begin(cls, ctx: Schedule, st: Step, subtype: str | None = None) -> Injection | None:
        ok = ctx.candidates(st, priced=True, mask_only=True) & (st.bid_t >= 1 + np.ceil(1.5 * st.width) + 1)
        cand = np.flatnonzero(ok)
        if not cand.size:
            return None
        i = int(ctx.rng.choice(cand))
        w = int(st.width[i])
        f = float(ctx.rng.uniform(*ctx.cfg.spread_blowout_factor))
        e = min(max(_ticks((f - 1) * w / 2), 2), int(st.bid_t[i]) - 2)
        inj = cls(ctx, st, [i], ctx.duration("spread_blowout"), {})
        inj.extra = e
        inj.detail = {"width_before": w * ctx.tick, "width_after": (w + 2 * e) * ctx.tick, "factor": (w + 2 * e) / w}
        return inj

    def quotes(self, st: Step, k: int) -> None:
        i = self.idx[0]
        e = min(self.extra, int(st.bid_t[i]) - 1)
        st.bid_t[i] -= e
        st.ask_t[i] += e

    def flow(self, st: Step, k: int) -> None:
        i = self.idx[0]
        st.bid_size[i] = int(self.ctx.rng.integers(1, 11))
        st.ask_size[i] = int(self.ctx.rng.integers(1, 11))


class IvJump(Injection):
    """One contract's implied vol (bid and ask) jumps by several points vs the smile, holds, then decays."""

    type = "iv_jump"

    @classmethod
    def begin(cls, ctx: Schedule, st: Step, subtype: str | None = None) -> Injection | None:
        cand = ctx.candidates(st, priced=True, delta=(0.05, 0.95))
        if not cand.size:
            return None
        lo, hi = ctx.cfg.iv_jump_vol_points
        dv = ctx.rng.uniform(lo, hi) / 100.0 * (1 if ctx.rng.random() < 0.7 else -1)
        dvs = np.maximum(np.full(cand.size, dv), -0.5 * st.vol[cand])
        m = cand.size
        after = black_price(
            np.full(m, st.forward), ctx.sim.strike[cand], np.full(m, st.t), np.full(m, ctx.sim.rate),
            st.vol[cand] + dvs, ctx.sim.is_call[cand],
        )
        dp = np.abs(after - st.fair[cand])
        need = np.maximum(3 * st.width[cand] * ctx.tick / 2 + ctx.tick, ctx.cfg.min_edge)
        good = np.flatnonzero(dp >= need)
        if not good.size:
            return None
        g = int(ctx.rng.choice(good))
        i = int(cand[g])
        hold = ctx.n_snap(ctx.rng.uniform(*ctx.cfg.duration_s["iv_jump"]))
        decay = ctx.n_snap(ctx.cfg.iv_jump_decay_s)
        inj = cls(ctx, st, [i], hold + decay, {})
        inj.dv, inj.hold, inj.decay = float(dvs[g]), hold, decay
        inj.detail = {
            "vol_points": float(dvs[g]) * 100,
            "vol_before": float(st.vol[i]),
            "price_before": float(st.fair[i]),
            "price_after": float(after[g]),
            "hold_snapshots": hold,
            "decay_snapshots": decay,
        }
        return inj

    def vol_adjust(self, st: Step, k: int) -> dict[int, float]:
        f = 1.0 if k < self.hold else 1.0 - (k - self.hold + 1) / (self.decay + 1)
        return {self.idx[0]: self.dv * f}


class ContractError(Injection):
    """data_error on one contract: crossed, negative, NaN or missing ask."""

    type = "data_error"
    checks_collateral = False

    @classmethod
    def begin(cls, ctx: Schedule, st: Step, subtype: str | None = None) -> Injection | None:
        ok = ctx.candidates(st, priced=False, mask_only=True) & (st.fair >= 0.05)
        cand = np.flatnonzero(ok)
        if not cand.size:
            return None
        i = int(ctx.rng.choice(cand))
        inj = cls(ctx, st, [i], ctx.duration("data_error"), {})
        inj.subtype = subtype
        inj.field = "bid" if ctx.rng.random() < 0.5 else "ask"
        detail: dict = {}
        if subtype == "crossed":
            inj.cross = int(ctx.rng.integers(1, 4))
            detail = {"bid_above_ask_ticks": inj.cross}
        elif subtype == "negative":
            inj.value = -1.0 if ctx.rng.random() < 0.5 else -int(ctx.rng.integers(1, 21)) * ctx.tick
            detail = {"field": inj.field, "value": inj.value}
        elif subtype == "nan":
            detail = {"field": inj.field, "value": "NaN"}
        elif subtype == "missing_ask":
            detail = {"field": "ask", "value": None}
        inj.detail = detail
        return inj

    def errors(self, st: Step, k: int) -> None:
        i = self.idx[0]
        if self.subtype == "crossed":
            st.bid[i] = self.ctx.sim.to_dollars(np.array([st.ask_t[i] + self.cross]))[0]
            st.no_bid[i] = False
        elif self.subtype == "negative":
            getattr(st, self.field)[i] = self.value
            (st.no_bid if self.field == "bid" else st.no_ask)[i] = False
        elif self.subtype == "nan":
            getattr(st, self.field)[i] = math.nan
            (st.no_bid if self.field == "bid" else st.no_ask)[i] = False
        elif self.subtype == "missing_ask":
            st.no_ask[i] = True
            st.ask_size[i] = 0


INJECTIONS = {
    "mispricing": Mispricing,
    "parity": Parity,
    "arbitrage": Arbitrage,
    "volume_spike": VolumeSpike,
    "spread_blowout": SpreadBlowout,
    "iv_jump": IvJump,
    "data_error": ContractError,
}
