"""What the pieces of a simulated day see of it: the listed chain, its clock, and the book of busy lines.

``DaySimulation`` is the one implementation. The schedule, the injections and the
conditions of a messy feed are typed against these protocols, so none of them
imports the simulator, which imports them all.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import numpy as np

from spyglass.sim.config import Liquidity, Session, SimConfig
from spyglass.sim.step import Step


class Lines(Protocol):
    """Which strikes an episode may take, and the moneyness it chooses by (the ``Schedule`` keeps the book)."""

    def free_strikes(self, seq: int) -> np.ndarray: ...

    def reserve(self, strikes: list[int], until_seq: int, pad_strikes: int = 2,
                pad_snapshots: int | None = None) -> None: ...

    def block_onsets(self, first_seq: int, last_seq: int) -> None: ...

    def abs_delta(self, st: Step) -> np.ndarray: ...


class Day(Protocol):
    """The simulated day: contracts are calls then puts, each by strike (``n = 2 * n_strikes``)."""

    config: SimConfig
    session: Session
    liquidity: Liquidity
    underlying: str
    expiry: date
    tick: float
    rate: float
    strikes: np.ndarray  # the listed strikes
    strike: np.ndarray  # per contract
    is_call: np.ndarray  # per contract
    n: int
    n_strikes: int

    @property
    def schedule(self) -> Lines: ...

    @property
    def cumulative_volume(self) -> np.ndarray: ...

    @property
    def last_price(self) -> np.ndarray: ...

    def to_dollars(self, ticks: np.ndarray) -> np.ndarray: ...
