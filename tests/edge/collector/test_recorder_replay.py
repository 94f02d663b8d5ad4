"""Recorder (daily JSONL.gz, crash-safe tail), replay at a speed factor, and the sim source."""

from __future__ import annotations

import asyncio
import gzip
import time
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from edge.collector.recorder import Recorder, read_snapshot_lines, repair
from edge.collector.replay import ReplaySource, replay_files
from edge.collector.sim import SimSource
from edge.collector.source import shifted_clock
from spyglass.cli import app
from spyglass.contract import Snapshot
from spyglass.sim import InjectionConfig, SimConfig, simulate_day
from tests.edge.collector.harness import Harness, run


def sim_snapshots(n: int, interval: float = 1.0, day: str = "2026-11-24") -> list[Snapshot]:
    cfg = SimConfig(trading_date=day, start="11:00", interval_s=interval, seed=3,
                    injection=InjectionConfig(enabled=False))
    out = []
    for rec in simulate_day(cfg):
        out.append(Snapshot.from_dict(rec))
        if len(out) == n:
            return out
    return out


def test_recorder_round_trip_from_the_ibkr_source_through_spyglass_score(tmp_path):
    rec = Recorder(tmp_path)

    async def scenario():
        async with Harness(sinks=[rec]) as h:  # recording live, beside the other sinks
            await h.until(lambda: h.full_window(), what="a full window")
            await h.more_snapshots(3)
            return list(h.snapshots)

    snaps = run(scenario())
    rec.close()
    [path] = list(tmp_path.iterdir())
    assert path.name == "SPY-2026-11-24.jsonl.gz"
    back = [Snapshot.from_json(raw) for raw in read_snapshot_lines(path)]
    assert [s.to_dict() for s in back] == [s.to_dict() for s in snaps]
    out = tmp_path / "anomalies.jsonl"
    result = CliRunner().invoke(app, ["score", str(path), "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert f"scored {len(snaps)} snapshots (0 bad lines skipped)" in result.output


def test_a_file_cut_mid_write_reads_to_the_last_whole_line_and_is_repaired(tmp_path):
    snaps = sim_snapshots(4)
    rec = Recorder(tmp_path)
    for s in snaps[:3]:
        rec(s)
    rec.close()
    [path] = list(tmp_path.iterdir())
    whole = path.stat().st_size
    member = gzip.compress(snaps[3].to_json() + b"\n", mtime=0)
    with open(path, "ab") as fh:  # a crash in the middle of the fourth write
        fh.write(member[: len(member) // 2])
    assert [Snapshot.from_json(r).seq for r in read_snapshot_lines(path)] == [0, 1, 2]
    assert repair(path) == len(member) // 2 and path.stat().st_size == whole
    rec = Recorder(tmp_path)  # a restarted recorder appends after the last whole line
    rec(snaps[3])
    rec.close()
    with gzip.open(path, "rb") as fh:  # and the file is a plain multi-member gzip again
        assert [Snapshot.from_json(r).seq for r in fh] == [0, 1, 2, 3]


def test_recorder_rolls_over_by_new_york_date(tmp_path):
    a = sim_snapshots(1, day="2026-11-24")[0]
    b = sim_snapshots(1, day="2026-11-25")[0]
    rec = Recorder(tmp_path)
    rec(a)
    rec(b)
    rec.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SPY-2026-11-24.jsonl.gz", "SPY-2026-11-25.jsonl.gz"]
    assert [p.name for p in replay_files([tmp_path])] == ["SPY-2026-11-24.jsonl.gz", "SPY-2026-11-25.jsonl.gz"]


def test_replay_keeps_the_recorded_pacing_at_the_speed_factor(tmp_path):
    snaps = sim_snapshots(11, interval=1.0)  # 10 s of recording
    rec = Recorder(tmp_path)
    for s in snaps:
        rec(s)
    rec.close()
    with open(next(tmp_path.iterdir()), "ab") as fh:  # a bad line in the middle of nowhere: reported, skipped
        fh.write(gzip.compress(b'{"schema": "chain-snapshot/1"}\n'))

    def replay(speed):
        got = []
        src = ReplaySource([tmp_path], speed=speed, progress=False)
        t0 = time.perf_counter()
        asyncio.run(src.run(got.append, asyncio.Event()))
        return got, time.perf_counter() - t0, src

    fast, _, src = replay(0)
    assert [s.seq for s in fast] == list(range(11)) and src.bad == 1
    paced, elapsed, _ = replay(25.0)
    assert [s.to_dict() for s in paced] == [s.to_dict() for s in fast]
    assert elapsed >= 10 / 25.0 * 0.95  # the recorded 10 s, compressed 25x, were waited for


def test_replay_missing_input_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such recording"):
        ReplaySource([tmp_path / "nope.jsonl.gz"])
    with pytest.raises(ValueError):
        ReplaySource([tmp_path], speed=-1)


def test_sim_source_streams_in_real_time_and_idles_when_closed():
    async def go(clock):
        src = SimSource(interval=0.05, inject=False, now=shifted_clock(clock), idle_recheck=0.05)
        got, stop = [], asyncio.Event()
        task = asyncio.create_task(src.run(got.append, stop))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if len(got) >= 5 or src.state.startswith("idle"):
                break
        stop.set()
        await task
        return got, src

    got, src = asyncio.run(go(datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)))
    assert len(got) >= 5 and got[0].source == "sim" and got[0].ts == datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)
    assert [s.seq for s in got] == list(range(len(got)))
    got, src = asyncio.run(go(datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)))
    assert got == [] and src.state.startswith("idle: market closed")
