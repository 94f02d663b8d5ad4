"""Quote freshness: a quote that stopped updating while the market moved is not a price.

Feeds freeze: a block of lines stops ticking for minutes while spot moves, and
a frozen line, read as a price, looks mispriced and drags the parity forward
and the smile with it. So before anything is priced, each line is asked
whether it *ticked* since the last snapshot: its ``quote_age_ms`` is younger
than the time since that snapshot (when the source sends ages), or its bid or
ask changed (when it does not; a quote re-sent unchanged then looks frozen,
which only matters if the market moved).

Each line remembers the forward (spot carried to the close), the time to the
close and the fitted vol at its last tick. A line that has not ticked since is
*frozen* once the model says its value has moved further than a live quote
could sit still: |price(F now, T now) - price(F then, T then)| at the line's
own vol > ``stale_half_spreads`` half-spreads (half a tick for a one-sided
quote) plus one tick (what rounding to the tick grid can hide), on a line
worth at least ``min_price`` then or now (a penny line is no price that
matters, however long it sits). A one-sided quote is a bound, not a price: an
ask alone goes stale only when the value rises through it, a bid alone when
the value falls through it. A frozen line is excluded from the forward, the smile
fit and every market rule at once; it is reported as ``data_error``
``stale_quote`` once it has been frozen ``stale_report_seconds`` (a line that
merely lags a jump by a second is left out quietly), once per episode: the
episode lasts until the line ticks again.

A line that has not ticked for ``stale_suspect_seconds`` while its value moved
by more than a tick (less than frozen) is *suspect*: it still sets the forward
and the smile, but no market rule judges it, because a quote that lags is
exactly what a parity or spread rule would mistake for an opportunity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spyglass.analytics.black import black_price
from spyglass.config import DetectorConfig
from spyglass.contract import Chain
from spyglass.detect.state import ContractSeries


@dataclass(frozen=True, slots=True)
class Freshness:
    ticked: np.ndarray  # the line's quote changed (or the source says it ticked) since the last snapshot
    frozen: np.ndarray  # not a price in this snapshot: excluded everywhere
    suspect: np.ndarray  # lagging: not ticked for a while though its value moved more than a tick (no rule judges it)
    newly_stale: np.ndarray  # frozen long enough to report, and not reported yet in this episode
    age_s: np.ndarray  # seconds since the line's last tick (NaN when unknown)
    model_move: np.ndarray  # how far the line's value moved since its last tick, per the model (dollars)
    updates: dict[str, np.ndarray]  # series fields for the next snapshot


def assess(chain: Chain, ts_s: float, dt: float, forward: float, t: float, rate: float, prev: ContractSeries,
           fallback_vol: float, tick: float, cfg: DetectorConfig) -> Freshness:
    """Freshness of every line of ``chain``; ``dt`` is the time since the previous snapshot (0 for the first),
    ``forward`` the spot carried to the close (not the parity forward: the options are what is in question)."""
    bid, ask = chain.bid, chain.ask
    with np.errstate(invalid="ignore"):
        quoted = (np.isfinite(bid) & (bid > 0)) | (np.isfinite(ask) & (ask > 0))
        two = np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (ask >= bid)
    age_given = chain.quote_age_ms / 1000.0  # NaN where the source does not say
    with np.errstate(invalid="ignore"):
        changed = ~(_same(bid, prev["bid"]) & _same(ask, prev["ask"]))
        ticked = changed | (age_given < dt) | np.isnan(prev["anchor_ts"]) | (dt <= 0)
    frozen = np.zeros(len(chain), dtype=np.bool_)
    lagging = np.zeros(len(chain), dtype=np.bool_)
    move = np.zeros(len(chain))
    idle = np.flatnonzero(~ticked & quoted)
    if idle.size and t > 0:
        vol = prev["fit_vol"][idle]
        vol = np.where(np.isfinite(vol) & (vol > 0), vol, fallback_vol)
        k, c, m = chain.strike[idle], chain.is_call[idle], idle.size
        then_t = np.fmax(prev["anchor_t"][idle], 0.0)
        now = black_price(np.full(m, forward), k, np.full(m, t), np.full(m, rate), vol, c)
        then = black_price(prev["anchor_fwd"][idle], k, then_t, np.full(m, rate), vol, c)
        # a one-sided quote is a bound, not a price: an ask alone stands while the value falls under it, a bid
        # alone while the value rises over it; only a move through the bound can make it stale
        has_bid = np.isfinite(bid[idle]) & (bid[idle] > 0)
        has_ask = np.isfinite(ask[idle]) & (ask[idle] > 0)
        moved = now - then
        move[idle] = np.where(two[idle], np.abs(moved), np.where(has_ask & ~has_bid, np.fmax(moved, 0.0),
                                                                 np.fmax(-moved, 0.0)))
        with np.errstate(invalid="ignore"):
            # a one-sided quote has no spread of its own: half a tick stands in for it
            half = np.where(two[idle], np.fmax(0.5 * (ask[idle] - bid[idle]), 0.5 * tick), 0.5 * tick)
            # a line worth pennies then and now is no price that matters, however long it sits
            relevant = np.fmax(now, then) >= cfg.min_price
            frozen[idle] = (relevant & (move[idle] > cfg.stale_half_spreads * half + tick)) | (prev["stale"][idle] > 0)
            lagging[idle] = relevant & (move[idle] > tick)
    with np.errstate(invalid="ignore"):
        age = np.where(np.isfinite(age_given), age_given, np.where(ticked, 0.0, ts_s - prev["anchor_ts"]))
        newly = frozen & (age >= cfg.stale_report_seconds) & ~(prev["stale"] > 0)
        suspect = lagging & ~frozen & (age >= cfg.stale_suspect_seconds)
    stale = np.where(ticked, 0.0, np.where(newly, 1.0, prev["stale"]))
    updates = {
        "bid": bid.copy(), "ask": ask.copy(),
        "anchor_fwd": np.where(ticked, forward, prev["anchor_fwd"]),
        "anchor_t": np.where(ticked, t, prev["anchor_t"]),
        "anchor_ts": np.where(ticked, ts_s - np.where(np.isfinite(age_given), age_given, 0.0), prev["anchor_ts"]),
        "stale": stale,
    }
    return Freshness(ticked, frozen, suspect, newly, age, move, updates)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b))


def fallback_vol(smile: dict | None) -> float:
    """A vol for lines the last fit did not price: its ATM level, else a generic 20%."""
    if smile and math.isfinite(smile.get("atm_vol", math.nan)):
        return float(smile["atm_vol"])
    return 0.2
