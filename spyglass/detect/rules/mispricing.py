"""mispricing: a quote whose whole bid-ask range sits away from fair value.

Rule: rich when ``bid - fair_american > k * half_spread``, cheap when
``fair - ask > k * half_spread``; and the distance beyond the quote, in dollars
per contract, must be at least ``mispricing_min_edge`` after one fee. ``fair``
is the fitted smile's European price; for in-the-money American puts (and
calls when a dividend yield is given) the rich side allows the largest
early-exercise premium, K(1 - DF) or S(1 - e^-qT), so American optionality is
never reported as richness.

The quote must be beyond fair both as the fitted smile prices it and as the
line's neighbours on the smile price it (the median out-of-the-money vol of
the two strikes either side): judged against the less favourable of the two,
so a spline that wobbles between quotes cannot make a line look off.

A quote that agrees with its parity partner at the same strike (about as
tight as itself) is not mispriced, whatever the fit says: when both legs of a
strike sit off the smile the same way, the fitted smile is what is off there.

In the last ``LATE_FROM`` minutes both thresholds rise, to ``LATE_MAX`` times
their values ``LATE_TO`` minutes before the close: fewer quotes carry a smile whose vega
collapses, and its fair value wobbles by more than a small edge.

Score: distance beyond the quote in half-spreads. Severity by edge after fees:
high >= 3x the minimum, medium >= 1.5x, else low.
"""

from __future__ import annotations

import math

import numpy as np

from spyglass.analytics.black import black_price
from spyglass.analytics.pairs import call_put_pairs
from spyglass.analytics.pricing import PricedChain
from spyglass.config import DetectorConfig
from spyglass.detect.finding import Finding, contract_label, money, r4, severity_from
from spyglass.outcome.trade import buy, sell

LATE_FROM = 120.0
LATE_TO = 20.0
LATE_MAX = 2.5


def detect(p: PricedChain, clean: np.ndarray, neighbour_iv: np.ndarray, cfg: DetectorConfig) -> list[Finding]:
    """``neighbour_iv``: the vol the line's neighbours on the smile imply (the screen's), a second opinion."""
    if not p.fit.ok or not (p.fit.rms_half_spreads <= 2.5):
        return []
    ch = p.chain
    mult = p.spec.multiplier
    allowance = _early_exercise_allowance(p)
    # each side that exists is tradeable on its own: a one-sided quote is judged on that side,
    # with one tick standing in for its half-spread
    half = np.where(p.two_sided, p.half_spread, 0.5 * p.spec.tick)
    # the fit and the neighbours must both see the quote beyond fair: judged against the less favourable of
    # the two, a spline that wobbles between quotes (the last hour, thin wings) cannot make a line look off
    n = len(ch)
    second = black_price(np.full(n, p.forward.forward), ch.strike, np.full(n, max(p.t, 0.0)), np.full(n, p.rate),
                         np.where(np.isfinite(neighbour_iv), neighbour_iv, 0.2), ch.is_call)
    second = np.where(np.isfinite(neighbour_iv), second, p.fair)
    late = late_factor(p.minutes_to_close)
    with np.errstate(invalid="ignore"):
        rich = np.where(ch.bid > 0, ch.bid - (np.fmax(p.fair, second) + allowance), np.nan)
        cheap = np.where(ch.ask > 0, np.fmin(p.fair, second) - ch.ask, np.nan)
        beyond = np.fmax(rich, cheap)
        ok = clean & np.isfinite(p.fair) & (beyond > late * cfg.mispricing_k * half)
        ok &= beyond * mult - cfg.fee_per_contract >= late * cfg.mispricing_min_edge
    ok &= ~_agrees_with_its_pair(p, clean)
    out = []
    for i in np.flatnonzero(ok):
        is_rich = bool(rich[i] >= cheap[i]) or not np.isfinite(cheap[i])
        d = float(beyond[i])
        edge = d * mult
        after_fees = edge - cfg.fee_per_contract
        name = contract_label(bool(ch.is_call[i]), float(ch.strike[i]))
        hs = float(half[i])
        side = "rich: sell at the bid" if is_rich else "cheap: buy at the ask"
        quote = float(ch.bid[i] if is_rich else ch.ask[i])
        mkt_iv = float(p.bid_iv[i] if is_rich else p.ask_iv[i])
        fit_iv = float(p.fitted_iv[i])
        fair = float(max(p.fair[i], second[i]) if is_rich else min(p.fair[i], second[i]))
        if p.near_close or not math.isfinite(mkt_iv):
            why = (f"price-space fit: IV is unreliable {p.minutes_to_close:.0f} min before the close" if p.near_close
                   else "a one-sided quote has no implied vol" if not p.two_sided[i]
                   else "the quote has no implied vol: outside what the option can be worth")
            how = f"{'bid' if is_rich else 'ask'} {quote:.2f} vs fair {fair:.2f} ({why})"
        else:
            how = (f"IV {abs(mkt_iv - fit_iv) * 100:.1f} vol pts {'above' if is_rich else 'below'} the fitted smile "
                   f"({mkt_iv * 100:.1f} vs {fit_iv * 100:.1f})")
        summary = (f"{name} {side}; {how}; {money(edge)} per contract beyond the spread "
                   f"({d / hs:.1f} half-spreads), {money(after_fees)} after fees")
        out.append(Finding(
            "mispricing", "C" if ch.is_call[i] else "P", float(ch.strike[i]), d / hs,
            severity_from(after_fees / cfg.mispricing_min_edge, 1.5, 3.0), "mispricing.quote_beyond_fair", summary,
            edge=edge,
            numbers={
                "side": "rich" if is_rich else "cheap", "direction_key": "rich" if is_rich else "cheap", "bid": r4(ch.bid[i]), "ask": r4(ch.ask[i]),
                "one_sided": not bool(p.two_sided[i]),
                "fair": r4(fair), "fitted_fair": r4(p.fair[i]), "neighbour_fair": r4(second[i]),
                "market_iv": r4(mkt_iv), "fitted_iv": r4(fit_iv),
                "vol_points": r4((mkt_iv - fit_iv) * 100), "residual_half_spreads": r4(p.residual[i]),
                "beyond_quote_half_spreads": r4(d / hs), "edge_after_fees": r4(after_fees),
                "early_exercise_allowance": r4(allowance[i]), "fit_space": p.fit.space,
                "trade": [(sell if is_rich else buy)("C" if ch.is_call[i] else "P", ch.strike[i], quote)],
            },
        ))
    return out


def late_factor(minutes_to_close: float) -> float:
    """How much stricter the thresholds are as the close nears: 1 until ``LATE_FROM`` minutes before it, rising
    to ``LATE_MAX`` at ``LATE_TO`` and after. Fewer quotes carry a smile whose vega collapses, and the fitted fair value
    wobbles by more than a small edge (measured on the simulated days: docs/evaluation.md)."""
    return 1.0 + (LATE_MAX - 1.0) * min(max((LATE_FROM - minutes_to_close) / (LATE_FROM - LATE_TO), 0.0), 1.0)


def _agrees_with_its_pair(p: PricedChain, clean: np.ndarray) -> np.ndarray:
    """Lines whose quote overlaps what their parity partner at the same strike says they are worth (within the
    American early-exercise band and a tick), where that partner is about as tight as they are: when both legs
    of a strike sit off the fitted smile the same way, the smile is what is off there, not the quotes."""
    ch = p.chain
    out = np.zeros(len(ch), dtype=np.bool_)
    k, ci, pi = call_put_pairs(ch, clean & p.two_sided)
    if k.size == 0 or p.t <= 0:
        return out
    theo = p.discount * (p.forward.forward - k)
    put_allow = k * (1.0 - p.discount)
    call_allow = p.snapshot.spot * (1.0 - math.exp(-p.dividend_yield * p.t))
    tick = p.spec.tick
    # C - P lies in [theo - put_allow, theo + call_allow]: the call's range from the put's quote, and back
    call_lo, call_hi = ch.bid[pi] + theo - put_allow - tick, ch.ask[pi] + theo + call_allow + tick
    put_lo, put_hi = ch.bid[ci] - theo - call_allow - tick, ch.ask[ci] - theo + put_allow + tick
    tight_c = p.half_spread[pi] <= 2.0 * p.half_spread[ci]
    tight_p = p.half_spread[ci] <= 2.0 * p.half_spread[pi]
    out[ci] = tight_c & (ch.bid[ci] <= call_hi) & (ch.ask[ci] >= call_lo)
    out[pi] = tight_p & (ch.bid[pi] <= put_hi) & (ch.ask[pi] >= put_lo)
    return out


def _early_exercise_allowance(p: PricedChain) -> np.ndarray:
    ch = p.chain
    put_itm = ~ch.is_call & (ch.strike > p.forward.forward)
    call_itm = ch.is_call & (ch.strike < p.forward.forward)
    put_allow = ch.strike * (1.0 - p.discount)
    call_allow = p.snapshot.spot * (1.0 - math.exp(-p.dividend_yield * max(p.t, 0.0)))
    return np.where(put_itm, put_allow, np.where(call_itm, call_allow, 0.0))
