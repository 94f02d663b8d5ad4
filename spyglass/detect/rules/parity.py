"""parity: put-call parity broken beyond the tradeable bid/ask bounds.

European parity says C - P = DF (F - K). With American options the band is
DF (F - K) - K (1 - DF) <= C - P <= DF (F - K) + S (1 - e^-qT): the put's and
the call's largest early-exercise premia. A violation is tradeable when
C_bid - P_ask exceeds the upper edge (sell call, buy put, buy the forward) or
C_ask - P_bid falls below the lower edge (the reverse). The forward is the
robust median over near-the-money pairs, so one broken pair cannot move it;
with fewer than three pairs (the last minutes) it is the carry forward, and
then two or more strikes broken the same way are blamed on the spot instead.

Edge: the excess in dollars per contract; it must be at least
``parity_min_edge`` after two fees. The finding names the leg that is further
from the fitted smile. Severity by edge after fees (3x high, 1.5x medium).
"""

from __future__ import annotations

import math

import numpy as np

from spyglass.analytics.pairs import call_put_pairs
from spyglass.analytics.pricing import PricedChain
from spyglass.config import DetectorConfig
from spyglass.detect.finding import Finding, money, r4, severity_from
from spyglass.outcome.trade import buy, hedge, sell


def detect(p: PricedChain, clean: np.ndarray, cfg: DetectorConfig) -> list[Finding]:
    ch = p.chain
    if p.t <= 0:
        return []
    k, ci, pi = call_put_pairs(ch, clean & p.two_sided)
    if k.size == 0:
        return []
    df, fwd, mult = p.discount, p.forward.forward, p.spec.multiplier
    theo = df * (fwd - k)
    upper = theo + p.snapshot.spot * (1.0 - math.exp(-p.dividend_yield * p.t))
    lower = theo - k * (1.0 - df)
    over = ch.bid[ci] - ch.ask[pi] - upper
    under = lower - (ch.ask[ci] - ch.bid[pi])
    excess = np.fmax(over, under)
    fees = 2 * cfg.fee_per_contract
    hits = np.flatnonzero(excess * mult - fees >= cfg.parity_min_edge)
    if p.forward.method == "carry" and max(int((over[hits] > 0).sum()), int((under[hits] > 0).sum())) >= 2:
        # without enough pairs to imply the forward, several strikes off the same way mean
        # the spot (and so the carry forward) is what is wrong, not the quotes
        return []
    out = []
    for j in hits:
        c, q, strike = ci[j], pi[j], float(k[j])
        edge = float(excess[j]) * mult
        high = over[j] >= under[j]
        leg = c if _abs(p.residual[c]) >= _abs(p.residual[q]) else q
        trade = "sell the call, buy the put" if high else "buy the call, sell the put"
        synthetic = (ch.bid[c] - ch.ask[q]) if high else (ch.ask[c] - ch.bid[q])
        bound = upper[j] if high else lower[j]
        summary = (f"{strike:g} put-call parity broken: call-put {'bid' if high else 'ask'} {synthetic:.2f} vs "
                   f"{'at most' if high else 'at least'} {bound:.2f} from forward {fwd:.2f}; {trade} for "
                   f"{money(edge)} per contract, {money(edge - fees)} after fees")
        hs = 0.5 * (p.half_spread[c] + p.half_spread[q])
        out.append(Finding(
            "parity", "C" if ch.is_call[leg] else "P", strike, float(excess[j] / hs),
            severity_from((edge - fees) / cfg.parity_min_edge, 1.5, 3.0), "parity.outside_bounds", summary, edge=edge,
            numbers={
                "call_bid": float(ch.bid[c]), "call_ask": float(ch.ask[c]), "put_bid": float(ch.bid[q]),
                "put_ask": float(ch.ask[q]), "forward": r4(fwd), "parity_value": r4(theo[j]),
                "lower_bound": r4(lower[j]), "upper_bound": r4(upper[j]), "excess": r4(excess[j]),
                "edge_after_fees": r4(edge - fees), "direction": "call rich" if high else "put rich",
                "direction_key": "call rich" if high else "put rich",
                # the synthetic sold (bought) against the underlying bought (sold): the trade that locks the edge
                "trade": ([sell("C", strike, ch.bid[c]), buy("P", strike, ch.ask[q]), hedge(1.0, p.snapshot.spot)]
                          if high else
                          [buy("C", strike, ch.ask[c]), sell("P", strike, ch.bid[q]), hedge(-1.0, p.snapshot.spot)]),
            },
        ))
    return out


def _abs(x: float) -> float:
    return abs(x) if x == x else -1.0
