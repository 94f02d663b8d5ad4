"""The ``replay`` source: recorded snapshot files at a speed factor, with a progress bar.

Reads what the recorder writes (and ``spyglass simulate`` output): ``.jsonl.gz`` or ``.jsonl``
files, or a directory of them in name order (daily files sort by date). ``speed`` 1 keeps the
recorded pacing, 10 is ten times faster, 0 is as fast as the sinks take them. A bad line is
reported with its file and line number and skipped; a partial last write ends its file quietly.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from edge.collector.recorder import read_snapshot_lines
from edge.collector.source import Sink
from spyglass.contract import Snapshot, SnapshotError

log = logging.getLogger("edge.collector.replay")


def replay_files(paths: Sequence[str | Path]) -> list[Path]:
    """Expand directories into their recordings, in name order; FileNotFoundError if none exist."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.name.endswith((".jsonl", ".jsonl.gz")))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"no such recording: {p}")
    if not out:
        raise FileNotFoundError(f"no recordings in {', '.join(map(str, paths))}")
    return out


class ReplaySource:
    name = "replay"

    def __init__(self, paths: Sequence[str | Path], *, speed: float = 1.0, progress: bool = True) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0 (0: as fast as possible)")
        self.files = replay_files(paths)
        self.speed = speed
        self.progress = progress
        self.emitted = 0
        self.bad = 0
        self.state = "starting"

    def readiness(self) -> tuple[bool, str]:
        return True, self.state

    async def run(self, emit: Sink, stop: asyncio.Event) -> None:
        total = sum(1 for f in self.files for _ in read_snapshot_lines(f)) if self.progress else None
        bar = tqdm(total=total, unit=" snapshots", disable=not self.progress or None, file=sys.stderr,
                   desc="replay", leave=False)
        loop = asyncio.get_running_loop()
        t0 = first = None
        try:
            for path in self.files:
                for lineno, raw in enumerate(read_snapshot_lines(path), start=1):
                    if stop.is_set():
                        return
                    if not raw.strip():
                        continue
                    try:
                        snap = Snapshot.from_json(raw)
                    except SnapshotError as exc:
                        self.bad += 1
                        log.warning("%s:%d: %s", path, lineno, exc)
                        continue
                    if first is None:
                        first, t0 = snap.ts, loop.time()
                    if self.speed > 0:
                        due = t0 + (snap.ts - first).total_seconds() / self.speed
                        wait = due - loop.time()
                        if wait > 0:
                            try:
                                await asyncio.wait_for(stop.wait(), timeout=wait)
                                return
                            except asyncio.TimeoutError:
                                pass
                    else:
                        await asyncio.sleep(0)
                    emit(snap)
                    self.emitted += 1
                    bar.update()
                    self.state = f"replaying {path.name}: {self.emitted} snapshots"
        finally:
            bar.close()
            self.state = f"replay finished: {self.emitted} snapshots, {self.bad} bad lines skipped"
            log.info(self.state)
