"""One snapshot's market in the making, passed through the simulator's stages (injections, conditions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Step:
    """One snapshot's market, as arrays over the contracts (calls then puts, by strike).

    Quotes are integer ticks until ``to_prices``; injections edit them in place.
    """

    seq: int
    ts: Any
    t: float  # years to the close
    minutes_to_close: float
    spot: float
    forward: float
    df: float
    atm_vol: float
    vol: np.ndarray
    fair: np.ndarray  # model value (the smile); what mispricing is measured against
    fair_quoted: np.ndarray  # what the quotes are built around (differs under iv_jump)
    width: np.ndarray
    bid_t: np.ndarray
    ask_t: np.ndarray
    base_bid_t: np.ndarray | None = None
    base_ask_t: np.ndarray | None = None
    bid_size: np.ndarray | None = None
    ask_size: np.ndarray | None = None
    mu: np.ndarray | None = None  # expected interval volume
    interval_volume: np.ndarray | None = None
    # float view, filled by to_prices; data errors edit these
    bid: np.ndarray | None = None
    ask: np.ndarray | None = None
    no_bid: np.ndarray | None = None
    no_ask: np.ndarray | None = None
    # what the snapshot shows when a condition of a messy feed says otherwise (stale lines, quote ages)
    volume_shown: np.ndarray | None = None
    last_shown: np.ndarray | None = None
    quote_age_ms: np.ndarray | None = None
    extra: dict = field(default_factory=dict)
