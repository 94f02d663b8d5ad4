"""arbitrage: static no-arbitrage violated with tradeable prices.

Checked on adjacent listed strikes of one right, using the side one would
trade (buy at the ask, sell at the bid):
- vertical monotonicity: a call (put) at a higher (lower) strike bid above
  the ask of the lower (higher) strike;
- vertical bound: a vertical spread bid above DF x strike width;
- butterfly convexity: the body's bid above the strike-weighted asks of its
  wings.
The credit must be at least ``arbitrage_min_edge`` dollars per contract
(before fees; the evidence gives the after-fee figure). The finding is placed
on the leg furthest from the fitted smile, which is the quote at fault, so one
bad quote gives one finding. Severity: after-fee edge >= $5 high, >= $0
medium, below (not profitable after fees) low.
"""

from __future__ import annotations

import numpy as np

from spyglass.analytics.pricing import PricedChain
from spyglass.config import DetectorConfig
from spyglass.detect.finding import Finding, contract_label, money, r4
from spyglass.outcome import trade


def detect(p: PricedChain, clean: np.ndarray, cfg: DetectorConfig) -> list[Finding]:
    ch = p.chain
    df, fee = p.discount, cfg.fee_per_contract
    need = cfg.arbitrage_min_edge / p.spec.multiplier
    best: dict[tuple[bool, float], Finding] = {}
    with np.errstate(invalid="ignore"):
        buy = np.where(clean & np.isfinite(ch.ask) & (ch.ask > 0), ch.ask, np.inf)
        sell = np.where(clean & np.isfinite(ch.bid) & (ch.bid > 0), ch.bid, -np.inf)
    for call in (True, False):
        idx = np.flatnonzero(ch.is_call == call)
        if idx.size < 2:
            continue
        k, b, a = ch.strike[idx], sell[idx], buy[idx]
        width = np.diff(k)
        # the dearer strike is the lower one for calls, the higher one for puts
        dear, cheap = (idx[:-1], idx[1:]) if call else (idx[1:], idx[:-1])
        with np.errstate(invalid="ignore"):
            mono = sell[cheap] - buy[dear]
            bound = sell[dear] - buy[cheap] - df * width
        for j in np.flatnonzero(mono >= need):
            d, c = dear[j], cheap[j]
            _add(best, p, cfg, "vertical", (d, c), (c,), (1.0, 1.0), mono[j], 2 * fee,
                 f"{contract_label(call, ch.strike[c])} bid {ch.bid[c]:.2f} above "
                 f"{contract_label(call, ch.strike[d])} ask {ch.ask[d]:.2f}")
        for j in np.flatnonzero(bound >= need):
            d, c = dear[j], cheap[j]
            _add(best, p, cfg, "vertical_bound", (d, c), (d,), (1.0, 1.0), bound[j], 2 * fee,
                 f"{contract_label(call, ch.strike[d])}/{ch.strike[c]:g} vertical bid "
                 f"{ch.bid[d] - ch.ask[c]:.2f} above its maximum value {df * width[j]:.2f}")
        if idx.size < 3:
            continue
        lam = (k[2:] - k[1:-1]) / (k[2:] - k[:-2])
        with np.errstate(invalid="ignore"):
            wings = lam * a[:-2] + (1 - lam) * a[2:]
            fly = b[1:-1] - wings
        for j in np.flatnonzero(fly >= need):
            w1, body, w3 = idx[j], idx[j + 1], idx[j + 2]
            _add(best, p, cfg, "butterfly", (w1, body, w3), (body,), (float(lam[j]), 1.0, float(1 - lam[j])), fly[j],
                 4 * fee,
                 f"{contract_label(call, ch.strike[body])} bid {ch.bid[body]:.2f} above its wings' weighted ask "
                 f"{wings[j]:.2f} ({ch.strike[w1]:g}/{ch.strike[w3]:g}): the butterfly pays to own")
    return list(best.values())


def _off_fair(p: PricedChain, i: int, sold: bool) -> float:
    """How far the traded side of leg i is from fair, in its half-spreads: the quote at fault is the
    one furthest off (one-sided quotes included, which have no mid residual)."""
    ch = p.chain
    off = (ch.bid[i] - p.fair[i]) if sold else (p.fair[i] - ch.ask[i])
    half = p.half_spread[i] if p.half_spread[i] == p.half_spread[i] else 0.5 * p.spec.tick
    return float(off / half) if off == off else -np.inf


def _add(best, p: PricedChain, cfg: DetectorConfig, kind: str, legs: tuple[int, ...], sold: tuple[int, ...],
         qty: tuple[float, ...], credit: float, fees: float, what: str) -> None:
    edge = float(credit) * p.spec.multiplier
    if not edge >= cfg.arbitrage_min_edge:
        return
    ch = p.chain
    at = max(legs, key=lambda i: _off_fair(p, i, i in sold))
    key = (bool(ch.is_call[at]), float(ch.strike[at]))
    if key in best and best[key].edge >= edge:
        return
    after = edge - fees
    severity = "high" if after >= 5.0 else "medium" if after >= 0 else "low"
    summary = f"{kind.replace('_', ' ')} arbitrage: {what}; {money(edge)} per contract, {money(after)} after fees"
    best[key] = Finding(
        "arbitrage", "C" if key[0] else "P", key[1], float(credit / max(p.spec.tick, 1e-9)), severity,
        f"arbitrage.{kind}", summary, edge=edge,
        numbers={"kind": kind, "legs": [contract_label(bool(ch.is_call[i]), float(ch.strike[i])) for i in legs],
                 "credit": r4(credit), "edge_after_fees": r4(after),
                 "trade": [trade.sell(_right(ch, i), ch.strike[i], ch.bid[i], n) if i in sold
                           else trade.buy(_right(ch, i), ch.strike[i], ch.ask[i], n) for i, n in zip(legs, qty)]},
    )


def _right(ch, i: int) -> str:
    return "C" if ch.is_call[i] else "P"
