"""Scorer: (state, snapshot) -> (anomalies, analytics, new state).

Pure: everything the scorer remembers is in ``ChainState``, returned rather
than kept, so the Functions app can store it outside the process and several
instances can score one chain in turn.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from spyglass.analytics.exposure import gamma_exposure
from spyglass.analytics.pricing import PricedChain, carry_inputs, expiry_close_of, price_chain
from spyglass.config import DetectorConfig, underlying_spec
from spyglass.contract import Anomaly, Snapshot, iso_ms
from spyglass.detect import confirm, floods, freshness, incidents, lifecycle, quality, screen
from spyglass.detect.finding import Finding
from spyglass.detect.rules import (
    arbitrage,
    data_error,
    iv_jump,
    mispricing,
    parity,
    smile_shift,
    spread_blowout,
    volume_spike,
)
from spyglass.detect.state import ChainState, ContractSeries
from spyglass.outcome import Markout, Tracked, advance, settle, track
from spyglass.outcome.tracker import Lines
from spyglass.wire.summary import ChainAnalytics, summarize

@dataclass(frozen=True, slots=True)
class ScoreResult:
    anomalies: list[Anomaly]
    analytics: ChainAnalytics | None
    state: ChainState
    scored: bool  # False when the snapshot was refused (out of order, repeated, after the close)
    outcomes: list[Markout] = field(default_factory=list)  # horizons of earlier alerts this snapshot completed


class Scorer:
    """Scores snapshots of any underlying; thresholds come from ``DetectorConfig``."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()

    def score(self, snapshot: Snapshot, state: ChainState | None = None) -> ScoreResult:
        cfg = self.config
        state = state or ChainState(snapshot.underlying, snapshot.expiry.isoformat())
        spec = underlying_spec(snapshot.underlying)
        digest = _digest(snapshot)
        refused = self._refusal(snapshot, state, digest)
        if refused is not None:
            outcomes: list[Markout] = []
            if refused.numbers.get("subtype") == "after_close" and state.graded:  # the close: its spot settles all
                outcomes = self.settle(state, snapshot.spot, snapshot.ts)
                state = state.evolve(tracked=[], settling=[])
            return ScoreResult([self._anomaly(snapshot, refused, "new", snapshot.ts, {"grade": "poor",
                               "two_sided_share": 0.0, "notes": [refused.summary]})], None, state, False, outcomes)

        chain = snapshot.chain
        first = state.series is None
        prev = ContractSeries.empty(chain) if first else state.series.aligned_to(chain)
        bad, findings = data_error.contract_errors(chain, None if first else prev)
        # before anything is priced: which quotes are prices at all (frozen lines, bad prints)
        t, rate, q = carry_inputs(snapshot, spec)
        carry = snapshot.spot * math.exp((rate - q) * max(t, 0.0))
        dt = 0.0 if first else (snapshot.ts - state.last_ts).total_seconds()
        ts_s = snapshot.ts.timestamp()
        fresh = freshness.assess(chain, ts_s, dt, carry, t, rate, prev, freshness.fallback_vol(state.smile),
                                 spec.tick, cfg)
        near_close = t * 525600.0 <= cfg.near_close_minutes
        odd = screen.screen(chain, carry, t, rate, bad | fresh.frozen, prev["fit_vol"], spec.tick, near_close, cfg)
        findings += data_error.outliers(chain, np.flatnonzero(odd.outlier), odd.neighbour_fair, odd.side)
        once = data_error.stale_quotes(chain, np.flatnonzero(fresh.newly_stale), fresh.age_s, fresh.model_move,
                                       carry - prev["anchor_fwd"], np.isfinite(chain.quote_age_ms))
        clean = ~(bad | fresh.frozen | odd.outlier)

        p = price_chain(snapshot, spec, cfg, state.smile, trusted=clean)
        if p.forward.spot_mismatch:
            findings.append(data_error.spot_mismatch(snapshot.spot, p.forward.forward, p.forward.carry,
                                                     p.forward.spot_gap_half_spreads))
        # a fair value is evidence only where trusted quotes surround the line: not in a wing the spline extrapolates;
        # a lagging quote is no opportunity
        judged = clean & odd.supported & ~fresh.suspect
        clean = clean & ~fresh.suspect
        market: list[Finding] = []
        market += mispricing.detect(p, judged, odd.neighbour_iv, cfg)
        market += parity.detect(p, clean, cfg)
        market += arbitrage.detect(p, clean, cfg)

        spread = spread_blowout.spreads(chain, p.two_sided & clean)
        res_vol, res_price = iv_jump.residuals(p, judged, cfg)
        updates: dict[str, np.ndarray] = dict(fresh.updates)
        first_ts = state.first_ts or snapshot.ts
        levels = smile_shift.levels(p, state.smile_levels)
        blocks = state.volume_blocks
        # a line's volume is news only when the line itself is: it ticked or it traded (a frozen feed freezes
        # volume too); with quote ages it is as of the line's last tick
        observed = np.isfinite(chain.volume) & clean & (fresh.ticked | (chain.volume != prev["volume"]))
        age = chain.quote_age_ms / 1000.0
        volume_ts = ts_s - np.where(np.isfinite(age) & fresh.ticked, age, 0.0)
        if dt > 0:
            rate_now, interval = volume_spike.interval_rate(chain, prev, volume_ts)
            rate_now = np.where(observed, rate_now, np.nan)
            mature = (snapshot.ts - first_ts).total_seconds() >= cfg.volume_warmup_seconds
            block = volume_spike.block_size(blocks, cfg) if mature else math.nan
            spikes, excess = volume_spike.detect(chain, rate_now, interval, volume_spike.baseline(chain, prev, cfg),
                                                 block, clean, cfg)
            blocks = volume_spike.next_blocks(blocks, excess, dt)
            market += spikes
            market += spread_blowout.detect(chain, spread, prev, clean, spec.tick, cfg)
            if not p.forward.spot_mismatch:
                market += iv_jump.detect(p, res_vol, res_price, prev, snapshot.spot - state.last_spot, cfg)
                market += smile_shift.detect(p, levels, judged, state.smile, snapshot.spot - state.last_spot, cfg)
            updates |= volume_spike.update(prev, rate_now, interval, cfg)
            updates |= spread_blowout.update(prev, spread, dt)
        else:
            updates |= spread_blowout.update(prev, spread, 1.0)
        updates["volume"] = np.where(observed, chain.volume, prev["volume"])
        updates["volume_ts"] = np.where(observed, volume_ts, prev["volume_ts"])
        updates["residual_vol"] = res_vol
        updates["residual_price"] = res_price
        updates["was_two_sided"] = np.where(p.two_sided, 1.0, 0.0)
        updates["fit_vol"] = np.where(np.isfinite(p.fitted_iv), p.fitted_iv, prev["fit_vol"])
        series = ContractSeries(prev.is_call, prev.strike, {**prev.values, **updates})

        market, pending = confirm.hold(market, state.pending, cfg)
        findings = incidents.merge(floods.collapse(findings + market, p, cfg))
        dq = quality.grade(p, bad, fresh.frozen, odd.outlier)
        emit, active = lifecycle.advance(findings, state.active, snapshot.ts, cfg)
        emit += [(f, "new", snapshot.ts) for f in floods.collapse(once, p, cfg)]  # once per stale episode
        emit = incidents.one_per_type_for_the_chain(emit)
        anomalies = [self._anomaly(snapshot, f, st, first_seen, dq) for f, st, first_seen in emit]
        outcomes, tracked = self._mark_out(state, snapshot, p, clean & p.two_sided)
        tracked += track(anomalies)
        done = [t.to_dict() for t in tracked if t.settling]
        analytics = summarize(p, _exposure(p), dq)
        new_state = state.evolve(
            last_ts=snapshot.ts, last_seq=snapshot.seq, last_digest=digest, last_spot=snapshot.spot,
            snapshots=state.snapshots + 1, series=series, active=active, smile=p.fit.prior(), first_ts=first_ts,
            volume_blocks=blocks, smile_levels=levels, pending=pending,
            tracked=[t.to_dict() for t in tracked if not t.settling], settling=state.settling + done,
        )
        return ScoreResult(anomalies, analytics, new_state, True, outcomes)

    def _mark_out(self, state: ChainState, snapshot: Snapshot, p: PricedChain,
                  usable: np.ndarray) -> tuple[list[Markout], list[Tracked]]:
        """Earlier alerts' horizons that this snapshot completes (outcome/tracker.py)."""
        if not state.tracked:
            return [], []
        tracked = [Tracked.from_dict(d) for d in state.tracked]
        return advance(tracked, snapshot.ts.timestamp(), iso_ms(snapshot.ts), Lines(p.chain, usable, p.fair),
                       snapshot.spot, p.spec.multiplier, self.config.fee_per_contract)

    def settle(self, state: ChainState, spot: float, ts) -> list[Markout]:
        """Every open alert of the chain held to the close at ``spot`` (the final spot, seen at ``ts``)."""
        spec = underlying_spec(state.underlying)
        return settle([Tracked.from_dict(d) for d in state.tracked + state.settling], spot, iso_ms(ts), spec.multiplier,
                      self.config.fee_per_contract)

    def _refusal(self, snapshot: Snapshot, state: ChainState, digest: str) -> Finding | None:
        if state.last_ts is not None:
            if snapshot.ts < state.last_ts:
                return data_error.out_of_order(snapshot.ts, state.last_ts, snapshot.seq, state.last_seq)
            if snapshot.ts == state.last_ts:
                return data_error.repeated(snapshot.ts, digest == state.last_digest)
        close = expiry_close_of(snapshot, underlying_spec(snapshot.underlying))
        if snapshot.ts >= close:
            return data_error.after_close(snapshot.ts, close)
        return None

    def _anomaly(self, snapshot: Snapshot, f: Finding, lifecycle_state: str, first_seen, dq) -> Anomaly:
        evidence = {"summary": f.summary, "rule": f.rule, "state": lifecycle_state, "first_seen": iso_ms(first_seen),
                    **f.numbers}
        return Anomaly(
            underlying=snapshot.underlying, expiry=snapshot.expiry, ts=snapshot.ts, right=f.right, strike=f.strike,
            type=f.type, score=f.score, severity=f.severity, edge=f.edge, evidence=evidence, data_quality=dq,
            facets=tuple(_facet(x) for x in f.facets),
        )


def _facet(f: Finding) -> dict:
    return {"type": f.type, "rule": f.rule, "score": round(float(f.score), 4), "severity": f.severity,
            "edge": None if f.edge is None else round(float(f.edge), 2), "summary": f.summary, "evidence": f.numbers}


def _exposure(p: PricedChain):
    ch = p.chain
    return gamma_exposure(p.snapshot.spot, p.forward.forward, ch.strike, ch.is_call, ch.open_interest,
                          p.fitted_iv, p.greeks.gamma, p.t, p.rate, p.spec.multiplier)


def _digest(snapshot: Snapshot) -> str:
    """Content hash of the quotes, so a replayed snapshot is recognised as one."""
    ch = snapshot.chain
    h = hashlib.blake2b(digest_size=12)
    h.update(np.float64(snapshot.spot).tobytes())
    for col in (ch.strike, ch.bid, ch.ask, ch.last, ch.volume):
        h.update(np.ascontiguousarray(col).tobytes())
    h.update(ch.is_call.tobytes())
    return h.hexdigest()
