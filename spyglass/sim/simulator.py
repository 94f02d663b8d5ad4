"""A realistic, seeded 0DTE day: chain-snapshot/1 dicts in time order, plus labels.

``simulate_day(config)`` returns a ``DaySimulation``: an iterator of snapshot
dicts whose ``labels`` list holds the injected anomalies (complete once the
iterator is exhausted). Each snapshot is computed with numpy over the whole
chain at once; Black-76 prices come from ``spyglass.analytics.black``.

Streams of randomness are independent (numpy ``SeedSequence.spawn``): the same
seed gives the same underlying market whether or not anomalies are injected
(with ``jumps_per_day=0``; otherwise a spot jump that would fall on an iv_jump
onset is dropped).

Measured on the SPY defaults (seeded runs, 2026-11-23): ATM spread 1 tick 29%,
2 ticks 68%, 3 ticks 3% of the time; 25-delta risk reversal from quoted mids
-0.027 to -0.031; one-sided lines 40% of the chain at the open, 49% at the
close (every line worth under half a tick: bid null, ask 0.01); a full day at
1 s (23,400 snapshots x 122 contracts) in about 11 s.

The conditions of a messy feed (``spyglass.sim.mess``; all off above) are
applied after the injections. Measured on the scenarios (2026-11-24, seeds 0-3):

- quote ages (``clean``): at the money median 0.2 s, p99 1.3 s; within 1% of
  spot median 0.5 s, p99 3.6 s; whole chain median 1.2 s, p99 14 s, 10% of
  line-snapshots older than 5 s (the far wings tick about once a minute).
- stale blocks (``stale``, 6 an hour, a third deep): median 6 lines and 260 s;
  60% both legs; 86% of frozen lines become material (deep blocks 92%), a
  median 14 s (p90 49 s) after the freeze: near the money a 0DTE quote is out
  of date within seconds of the spot moving.
- fat fingers (``fat_finger``, 12 an hour): all five kinds; no onset skipped.
- pulled bids (``clean``): about 40 an hour near the money, 5 s on average; 5%
  of the lines within 0.5% of spot show no bid at a given moment.
- gap (``gap``, seeds 5-7): spot -0.80%/+0.81%; ATM vol from the quotes x1.36
  to x1.38 (configured 1.37); 25-delta risk reversal -3.1 -> -5.2 to -5.7 vol
  points (ATM x1.37 times skew x1.3); 73 to 91 of 122 lines lag 1 or 2
  snapshots at 1 s.
- trade-like volume (``clean``): 3.09 M contracts (profile 3.0 M); prints
  median 1 lot, mean 3.1, 98% of 1-20 lots; 770 intervals of 200+ contracts on
  one line in the day (2 s), 416 of them after noon, the largest 731; the first
  minute trades 7x the midday rate (722 vs 102 contracts a second), 09:35-09:40
  2.7x; the first snapshot (09:30:05) carries 4,700 contracts.
- QQQ with its own liquidity vs SPY (10:00-10:30 and 13:00-13:30): ATM width
  3.3 vs 2.1 and 2.7 vs 1.8 ticks; near-the-money displayed size median 49 vs
  180; lines within 2% of spot without a bid +3 to +4 points; volume half.
- speed: the clean full day at 2 s (11,700 snapshots) in 5.3 s, 1.5x the
  same day without the mess (3.6 s), on a shared 2-core machine.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from collections.abc import Iterator

import numpy as np

from spyglass.analytics.black import black_price
from spyglass.clock import SECONDS_PER_YEAR
from spyglass.contract import SNAPSHOT_SCHEMA, iso_ms
from spyglass.labels import parse_ts
from spyglass.sim import model
from spyglass.sim.conditions import child_rng
from spyglass.sim.config import Session, SimConfig, resolve_session
from spyglass.sim.injections import INJECTIONS
from spyglass.sim.mess import Mess
from spyglass.sim.schedule import Schedule
from spyglass.sim.step import Step
from spyglass.sim.trades import Burst, Intensity, TradeFlow


class DaySimulation(Iterator[dict]):
    """Iterator of chain-snapshot/1 dicts for one simulated day; see ``labels``."""

    def __init__(self, config: SimConfig | None = None, *, progress: bool = False) -> None:
        self.config = cfg = config or SimConfig()
        self.session: Session = resolve_session(cfg)
        self.progress = progress
        prof = cfg.profile
        self.underlying = cfg.underlying.upper()
        self.expiry = self.session.trading_date
        self.tick = cfg.tick
        self.liquidity = liq = cfg.liquidity
        tpd = 1.0 / cfg.tick
        self._ticks_per_dollar = round(tpd) if abs(tpd - round(tpd)) < 1e-9 else None
        ss = np.random.SeedSequence(cfg.seed)
        s_market, s_quote, s_volume, s_inject = ss.spawn(4)
        self._rng_m = np.random.default_rng(s_market)
        self._rng_q = np.random.default_rng(s_quote)
        self._rng_v = np.random.default_rng(s_volume)

        self.spot0 = float(cfg.spot if cfg.spot is not None else prof.spot)
        self.atm_vol0 = float(cfg.atm_vol if cfg.atm_vol is not None else prof.atm_vol)
        self.rate = float(cfg.rate)
        self.dividend_yield = float(cfg.dividend_yield if cfg.dividend_yield is not None else prof.dividend_yield)
        self.daily_volume = float(cfg.daily_volume if cfg.daily_volume is not None else prof.daily_volume)
        oi_level = float(cfg.open_interest if cfg.open_interest is not None else prof.open_interest)

        # listing: fixed for the day, $step strikes within +-range of the opening spot
        step = cfg.strike_step
        srange = liq.strike_range if cfg.own_liquidity else cfg.strike_range
        lo = math.ceil(self.spot0 * (1 - srange) / step - 1e-9) * step
        hi = math.floor(self.spot0 * (1 + srange) / step + 1e-9) * step
        self.strikes = np.round(np.arange(lo, hi + step / 2, step), 6)
        nk = self.strikes.shape[0]
        if nk < 3:
            raise ValueError("fewer than 3 strikes listed; widen strike_range or shrink strike_step")
        self.n_strikes = nk
        self.is_call = np.concatenate([np.ones(nk, bool), np.zeros(nk, bool)])
        self.strike = np.concatenate([self.strikes, self.strikes])
        self.right = ["C"] * nk + ["P"] * nk
        self.n = 2 * nk

        # smile: skew for the configured risk reversal, late put boost on expiry days
        self.skew0 = model.solve_skew(cfg.rr25, self.atm_vol0, cfg.curvature)
        late = model.late_rr25(self.expiry, cfg.rr25_late_third_thursday, cfg.rr25_late_friday)
        self.late_boost = (
            0.0 if late is None else model.solve_put_boost(late, self.atm_vol0, self.skew0, cfg.curvature)
        )
        self._vol_path = model.SmoothPath.draw(self._rng_m, cfg.smile_drift)
        self._skew_path = model.SmoothPath.draw(self._rng_m, cfg.smile_drift)

        # open interest: static, lognormal, decaying with distance from the opening spot, round strikes heavier
        dist = np.abs(self.strike - self.spot0) / (0.02 * self.spot0)
        rem = np.mod(self.strike, 5 * step)
        round_bonus = np.where(np.isclose(rem, 0) | np.isclose(rem, 5 * step), 1.5, 1.0)
        self.open_interest = np.maximum(
            np.rint(oi_level * np.exp(-dist) * round_bonus * self._rng_m.lognormal(0.0, 0.6, self.n)), 0
        ).astype(np.int64)

        # persistent per-contract state
        self._spot = self.spot0
        self._noise = self._rng_q.normal(0.0, 1.0, self.n)
        self._wide = np.zeros(self.n)
        self._penny = np.zeros(self.n, bool)
        self._bid_size = np.ones(self.n, np.int64)
        self._ask_size = np.ones(self.n, np.int64)
        self._volume = np.zeros(self.n, np.int64)
        self._last = np.full(self.n, np.nan)
        self._dt = self.session.interval.total_seconds() / SECONDS_PER_YEAR
        secs = self.session.interval.total_seconds()
        self._noise_rho = math.exp(-secs / 10.0)
        self._wide_on = 1 - math.exp(-secs * liq.extra_tick_rate)  # an extra tick of width ~4% of the time (SPY)
        self._wide_off = 1 - math.exp(-secs * liq.extra_tick_end)
        self._resize = 1 - math.exp(-secs / 5.0)
        self._penny_on = 1 - math.exp(-secs * 0.01)
        self._penny_off = 1 - math.exp(-secs * 0.01)
        self._jump_p = cfg.jumps_per_day * secs / self.session.session_seconds

        self.schedule = Schedule(cfg.injection, self, np.random.default_rng(s_inject), INJECTIONS)
        self.mess = Mess(self) if cfg.messy else None
        # volume as trades, and the bursts of the open and of a gap (None: the clean negative binomial)
        bursts = []
        if cfg.session_start is not None:
            bursts.append(Burst(0.0, cfg.session_start.burst, cfg.session_start.decay_s))
        gap_burst = None if self.mess is None or self.mess.gap is None else self.mess.gap.burst()
        if gap_burst is not None:
            bursts.append(gap_burst)
        tv = cfg.trade_volume
        self.intensity = None if tv is None and not bursts else Intensity(tv, self.session.session_seconds, bursts)
        self.flow = None if tv is None else TradeFlow(
            tv, liq.block_share if tv.block_share is None else tv.block_share, child_rng(cfg.seed, "trades"))
        self._gen = self._run()

    # ----------------------------------------------------------------- public
    @property
    def labels(self) -> list[dict]:
        """label/1 dicts of the injections (and conditions) finished so far, ordered by start."""
        if self.mess is None:
            return self.schedule.labels()
        return sorted(self.schedule.labels() + self.mess.labels(), key=lambda lb: (lb["start"], lb["id"]))

    @property
    def skipped(self) -> list[dict]:
        """Scheduled injections and condition episodes that found no eligible line."""
        return list(self.schedule.skipped) + ([] if self.mess is None else self.mess.skipped)

    @property
    def cumulative_volume(self) -> np.ndarray:
        """Contracts traded so far today, per line (the truth; a stale line may show less)."""
        return self._volume

    @property
    def last_price(self) -> np.ndarray:
        return self._last

    def __iter__(self) -> DaySimulation:
        return self

    def __next__(self) -> dict:
        return next(self._gen)

    # --------------------------------------------------------------- the day
    def _run(self) -> Iterator[dict]:
        n = self.session.n_snapshots
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=n, unit="snap", desc=f"simulate {self.underlying} {self.expiry}")
        recent: deque[tuple[dict, bool]] = deque(maxlen=4)
        held: dict | None = None
        try:
            for seq in range(n):
                snap, clean = self._snapshot(seq)
                if bar is not None:
                    bar.update(1)
                if held is not None:
                    yield snap
                    yield held
                    recent.append((snap, clean))
                    held = None
                    continue
                action = self.schedule.snapshot_action(seq, clean, last=seq == n - 1)
                if action == "out_of_order":
                    self.schedule.record_out_of_order(seq, self.session.ts(seq), self.session.ts(seq + 1))
                    held = snap
                    continue
                yield snap
                recent.append((snap, clean))
                if action == "stale":
                    choices = [i for i, (_, c) in enumerate(recent) if c]
                    pick = choices[int(self.schedule.rng.integers(0, len(choices)))]
                    old = recent[pick][0]
                    self.schedule.record_stale(old["seq"], parse_ts(old["ts"]), self.session.ts(seq), seq)
                    yield copy.deepcopy(old)
            if held is not None:  # cannot happen: out_of_order is never scheduled last
                yield held
        finally:
            self.schedule.finish()
            if self.mess is not None:
                self.mess.finish(self.session.n_snapshots - 1)
            if bar is not None:
                bar.close()

    def _snapshot(self, seq: int) -> tuple[dict, bool]:
        st = self._market(seq)
        inj = self.schedule
        inj.begin_due(st)
        if self.mess is not None:
            self.mess.begin(st)
        adj = inj.vol_adjustments(st)
        if adj:
            idx = np.fromiter(adj.keys(), np.int64)
            dv = np.fromiter(adj.values(), float)
            st.vol[idx] = st.vol[idx] + dv
            st.fair_quoted = st.fair.copy()
            st.fair_quoted[idx] = self._price(st, idx, st.vol[idx])
            st.width[idx] = model.spread_ticks(st.fair_quoted[idx], self.tick, st.minutes_to_close, self._wide[idx],
                                               self.liquidity)
            b, a = model.quote_ticks(st.fair_quoted[idx], st.width[idx], self._noise[idx], self.tick)
            st.bid_t[idx], st.ask_t[idx] = b, a
        st.base_bid_t = st.bid_t.copy()
        st.base_ask_t = st.ask_t.copy()
        inj.apply_quotes(st)
        self._sizes_and_volume(st)
        inj.apply_volume(st)
        self._volume += st.interval_volume
        self._update_last(st)
        inj.check_collateral(st)
        self._to_prices(st)
        inj.apply_errors(st)
        if self.mess is not None:
            self.mess.apply(st)
        clean = inj.end_step(st)
        return self._to_dict(st), clean

    def _price(self, st: Step, idx: np.ndarray, vol: np.ndarray) -> np.ndarray:
        m = idx.shape[0]
        return black_price(
            np.full(m, st.forward), self.strike[idx], np.full(m, st.t), np.full(m, self.rate), vol, self.is_call[idx]
        )

    def _market(self, seq: int) -> Step:
        ses = self.session
        ts = ses.ts(seq)
        t = (ses.close - ts).total_seconds() / SECONDS_PER_YEAR
        mtc = (ses.close - ts).total_seconds() / 60.0
        frac = (ts - ses.open).total_seconds() / ses.session_seconds
        atm = self.atm_vol0 * math.exp(self._vol_path(frac))
        skew = self.skew0 * (1.0 + self._skew_path(frac))
        gap = None if self.mess is None else self.mess.gap
        if gap is not None:
            atm, skew = gap.smile(seq, atm, skew)
        boost = self.late_boost * model.late_ramp(mtc)
        if seq > 0:
            z = self._rng_m.standard_normal()
            jump = 0.0
            if self._rng_m.random() < self._jump_p:
                jump = self._rng_m.normal(0.0, self.config.jump_size)
                if self.schedule.wants_calm(seq):
                    jump = 0.0
            self._spot *= math.exp(-0.5 * atm * atm * self._dt + atm * math.sqrt(self._dt) * z + jump)
            if gap is not None:
                self._spot *= gap.spot_factor(seq)
        spot = self._spot
        fwd = spot * math.exp((self.rate - self.dividend_yield) * t)
        df = math.exp(-self.rate * t)
        zk = np.log(self.strike / fwd) / (atm * math.sqrt(t))
        vol = atm * model.smile_multiplier(zk, skew, self.config.curvature, boost)
        n = self.n
        fair = black_price(np.full(n, fwd), self.strike, np.full(n, t), np.full(n, self.rate), vol, self.is_call)
        # quote state: AR(1) position noise, occasional extra tick of width
        rq = self._rng_q
        rho = self._noise_rho
        self._noise = rho * self._noise + math.sqrt(1 - rho * rho) * rq.standard_normal(n)
        flip = rq.random(n)
        self._wide = np.where(self._wide > 0, (flip >= self._wide_off) * 1.0, (flip < self._wide_on) * 1.0)
        width = model.spread_ticks(fair, self.tick, mtc, self._wide, self.liquidity)
        bid_t, ask_t = model.quote_ticks(fair, width, self._noise, self.tick)
        ask_t = np.where((bid_t <= 0) & (fair < 0.5 * self.tick), 1, ask_t)  # worthless: offered at a penny
        # no market-maker bid below a tick of value, but now and then a resting penny bid on a line worth something
        flip = rq.random(n)
        self._penny = np.where(self._penny, flip >= self._penny_off, flip < self._penny_on)
        penny = self._penny & (bid_t <= 0) & (fair >= 0.2 * self.tick)
        if penny.any():
            bid_t = np.where(penny, 1, bid_t)
            ask_t = np.where(penny, np.maximum(ask_t, 2), ask_t)
        if self.liquidity.no_bid_below_ticks > 0:  # thinner markets: no bid on lines worth only a few ticks
            bid_t = np.where(fair < self.liquidity.no_bid_below_ticks * self.tick, 0, bid_t)
        st = Step(seq, ts, t, mtc, spot, fwd, df, atm, vol, fair, fair, width, bid_t, ask_t)
        # expected interval volume: a share peaking at the money, U-shaped through the day
        weight = np.exp(-np.abs(np.log(self.strike / spot)) / 0.004) + 0.02
        weight /= weight.sum()
        per_interval = self.daily_volume * self.session.interval.total_seconds() / ses.session_seconds
        st.mu = per_interval * model.intraday_volume_shape(frac) * weight
        if self.intensity is not None:
            st.mu = self._expected_volume(ts, weight)
        st.extra["volume_weight"] = weight
        return st

    def _seconds_since_open(self, ts) -> float:
        return (ts - self.session.open).total_seconds()

    def _expected_volume(self, ts, weight: np.ndarray) -> np.ndarray:
        """Expected contracts per line in the interval ending at ``ts``: trade intensity, or the U plus bursts."""
        ses = self.session
        secs = ses.interval.total_seconds()
        t1 = self._seconds_since_open(ts)
        rate = self.daily_volume / ses.session_seconds
        if self.flow is not None:
            share = self.intensity.share(t1 - secs, t1)
        else:
            share = secs * model.intraday_volume_shape(t1 / ses.session_seconds)
            share += self.intensity.bursts_share(t1 - secs, t1)
        return rate * share * weight

    def _sizes_and_volume(self, st: Step) -> None:
        rq, rv = self._rng_q, self._rng_v
        n = self.n
        x = np.abs(np.log(self.strike / st.spot))
        # displayed sizes: lognormal around a moneyness-dependent level, refreshed now and then
        liq = self.liquidity
        near = liq.size_far + liq.size_near * np.exp(-x / liq.size_decay)
        redraw = rq.random(n) < self._resize
        if st.seq == 0:
            redraw[:] = True
        no_bid = st.bid_t <= 0
        r_idx = np.flatnonzero(redraw)
        if r_idx.size:
            m = r_idx.size
            self._bid_size[r_idx] = np.maximum(np.rint(near[r_idx] * rq.lognormal(0.0, 0.7, m)), 1)
            ask_level = np.where(no_bid[r_idx], 800.0, near[r_idx])
            self._ask_size[r_idx] = np.maximum(np.rint(ask_level * rq.lognormal(0.0, 0.7, m)), 1)
        st.bid_size = np.where(no_bid, 0, self._bid_size)
        penny = (st.bid_t == 1) & (st.fair < self.tick)
        st.bid_size = np.where(penny, np.minimum(st.bid_size, 1 + self._bid_size % 20), st.bid_size)
        st.ask_size = self._ask_size.copy()
        # interval volume: negative binomial around the expected share (see _expected_volume)
        mu = st.mu
        if st.seq == 0:  # the volume done between the open and the first snapshot
            st.interval_volume = np.zeros(n, np.int64)
            weight = st.extra["volume_weight"]
            t1 = self._seconds_since_open(st.ts)
            if self.flow is not None:
                done = self.daily_volume / self.session.session_seconds * self.intensity.share(0.0, t1) * weight
                if done.sum() > 0:
                    self._volume = self.flow.draw(done, weight)
                return
            frac = t1 / self.session.session_seconds
            done = self.daily_volume * model.intraday_volume_share(frac) * weight
            if self.intensity is not None:
                done = done + self.daily_volume / self.session.session_seconds * self.intensity.bursts_share(0.0, t1) * weight
            if done.sum() > 0:
                r = self.config.volume_dispersion
                self._volume = rv.negative_binomial(r, r / (r + done)).astype(np.int64)
            return
        if self.flow is not None:
            st.interval_volume = self.flow.draw(mu, st.extra["volume_weight"])
            return
        r = self.config.volume_dispersion
        st.interval_volume = rv.negative_binomial(r, r / (r + mu)).astype(np.int64)

    def _update_last(self, st: Step) -> None:
        traded = st.interval_volume > 0
        if st.seq == 0:
            self._last = np.maximum(np.rint(st.fair / self.tick), 1) * self.tick
        if traded.any():
            at_ask = self._rng_v.random(self.n) < 0.5
            px_t = np.where(at_ask | (st.bid_t <= 0), np.maximum(st.ask_t, 1), st.bid_t)
            self._last = np.where(traded, px_t * self.tick, self._last)

    def _to_prices(self, st: Step) -> None:
        st.no_bid = st.bid_t <= 0
        st.ask_t = np.maximum(st.ask_t, 1)
        st.no_ask = np.zeros(self.n, bool)
        st.bid = self.to_dollars(np.where(st.no_bid, 0, st.bid_t))
        st.ask = self.to_dollars(st.ask_t)

    def to_dollars(self, ticks: np.ndarray) -> np.ndarray:
        """Integer ticks to dollar prices that print cleanly (43 -> 0.43)."""
        if self._ticks_per_dollar is not None:
            return ticks / self._ticks_per_dollar
        return np.round(ticks * self.tick, 10)

    def _to_dict(self, st: Step) -> dict:
        bids = st.bid.tolist()
        asks = st.ask.tolist()
        for i in np.flatnonzero(st.no_bid).tolist():
            bids[i] = None
        for i in np.flatnonzero(st.no_ask).tolist():
            asks[i] = None
        volume = self._volume if st.volume_shown is None else st.volume_shown
        last = self._last if st.last_shown is None else st.last_shown
        lasts = np.round(last, 6).tolist()
        rows = [
            {
                "right": r,
                "strike": k,
                "bid": b,
                "ask": a,
                "last": lp,
                "volume": v,
                "open_interest": oi,
                "bid_size": bs,
                "ask_size": az,
            }
            for r, k, b, a, lp, v, oi, bs, az in zip(
                self.right,
                self.strike.tolist(),
                bids,
                asks,
                lasts,
                volume.tolist(),
                self.open_interest.tolist(),
                st.bid_size.tolist(),
                st.ask_size.tolist(),
            )
        ]
        if st.quote_age_ms is not None:
            for row, age in zip(rows, st.quote_age_ms.tolist()):
                row["quote_age_ms"] = age
        snap = {
            "schema": SNAPSHOT_SCHEMA,
            "underlying": self.underlying,
            "ts": iso_ms(st.ts),
            "spot": round(st.spot, 2),
            "expiry": self.expiry.isoformat(),
            "expiry_close": iso_ms(self.session.close),
            "rate": self.rate,
            "dividend_yield": self.dividend_yield,
            "seq": st.seq,
            "source": "sim",
            "contracts": rows,
        }
        if self.config.omit_expiry_close:
            del snap["expiry_close"]
        return snap


def simulate_day(config: SimConfig | None = None, *, progress: bool = False) -> DaySimulation:
    """A seeded 0DTE day: iterate it for chain-snapshot/1 dicts; ``.labels`` holds label/1 dicts."""
    return DaySimulation(config, progress=progress)
