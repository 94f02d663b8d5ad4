"""What one snapshot shows per line: the quote, sizes, cumulative volume and last price.

The conditions of a messy feed (stale blocks, lagging quotes after a gap)
replace a line's shown values with older ones; quote ages compare what is
shown with what was shown before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyglass.sim.step import Step


@dataclass
class Shown:
    bid: np.ndarray
    ask: np.ndarray
    no_bid: np.ndarray
    no_ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray
    volume: np.ndarray
    last: np.ndarray

    QUOTE = ("bid", "ask", "no_bid", "no_ask", "bid_size", "ask_size")
    ALL = (*QUOTE, "volume", "last")

    @classmethod
    def of(cls, st: Step) -> Shown:
        return cls(*(np.array(getattr(st, _STEP_FIELD.get(k, k)), copy=True) for k in cls.ALL))

    def subset(self, idx: np.ndarray) -> Shown:
        return Shown(*(getattr(self, k)[idx].copy() for k in self.ALL))

    def show_on(self, st: Step, idx: np.ndarray, fields: tuple[str, ...] = ALL, source_idx: np.ndarray | None = None):
        """Write these values into ``st`` at lines ``idx`` (from this object's ``source_idx``, default the same)."""
        src = idx if source_idx is None else source_idx
        for k in fields:
            getattr(st, _STEP_FIELD.get(k, k))[idx] = getattr(self, k)[src]


_STEP_FIELD = {"volume": "volume_shown", "last": "last_shown"}


def quote_changed(now: Shown | Step, before: Shown) -> np.ndarray:
    """Lines whose bid, ask or sizes differ from ``before`` (a NaN never equals anything: changed)."""
    out = np.zeros(before.bid.shape[0], bool)
    for k in ("no_bid", "no_ask", "bid_size", "ask_size"):
        out |= getattr(now, k) != getattr(before, k)
    out |= ~now.no_bid & ~before.no_bid & ~(now.bid == before.bid)
    out |= ~now.no_ask & ~before.no_ask & ~(now.ask == before.ask)
    return out
