"""A scoring session: one Scorer and the state of every chain it has seen, in one process.

The CLI and tests score streams with it; the Functions app instead keeps each
chain's state in storage and calls ``Scorer`` directly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from spyglass.config import DetectorConfig
from spyglass.contract import Snapshot
from spyglass.detect.scorer import Scorer, ScoreResult
from spyglass.detect.state import ChainState
from spyglass.outcome import Markout


@dataclass
class ScoringSession:
    config: DetectorConfig = field(default_factory=DetectorConfig)
    states: dict[tuple[str, str], ChainState] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    last: dict[tuple[str, str], Snapshot] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.scorer = Scorer(self.config)

    def feed(self, snapshot: Snapshot) -> ScoreResult:
        key = (snapshot.underlying, snapshot.expiry.isoformat())
        result = self.scorer.score(snapshot, self.states.get(key))
        self.states[key] = result.state
        self.last[key] = snapshot
        self.counts["snapshots"] += 1
        for a in result.anomalies:
            self.counts[a.type] += 1
        return result

    def close_day(self) -> list[Markout]:
        """The end of the stream: every chain's open alerts settled at its last spot (the final one a stream
        knows; a snapshot after the close settles them in ``feed`` instead)."""
        out = []
        for key, state in self.states.items():
            if state.graded:
                last = self.last[key]
                out += self.scorer.settle(state, last.spot, last.ts)
                self.states[key] = state.evolve(tracked=[], settling=[])
        return out
