"""The ordering policy alone: a pure function of the chain's cursor, its buffer and the wall clock."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from functions.ordering import GAP_SPAN_S, GAP_WAIT_S, MAX_BUFFER, Cursor, Pending, is_late, next_step

T0 = datetime(2026, 11, 24, 17, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(hours=1)  # wall clock: the snapshots are a backlog
RUN = "20261124T150000Z-aaaaaa"


def snap(seq: int | None, *, session: str | None = RUN, at: float | None = None, arrived: float = 0.0,
         void: bool = False) -> Pending:
    """Snapshot ``seq`` of a 1-per-second run, arrived ``arrived`` seconds before NOW."""
    ts = T0 + timedelta(seconds=seq if at is None else at)
    return Pending(ts, seq, session, NOW - timedelta(seconds=arrived), void=void)


def at(seq: int, session: str | None = RUN) -> Cursor:
    return Cursor(session, seq, T0 + timedelta(seconds=seq))


def order(pending: list[Pending], cursor: Cursor = Cursor(), now: datetime = NOW) -> tuple[list[str], Cursor]:
    """Run the policy to the end as ingest does; returns what happened, step by step, and the final cursor."""
    pending, done = list(pending), []
    while (step := next_step(cursor, pending, now)) is not None:
        if step.action == "wait":
            done.append("wait")
            break
        p = step.item
        label = f"{step.action} {p.seq if p.seq is not None else p.ts.second}"
        if step.missing:
            label += f" (missing {step.missing[0]}..{step.missing[1]})"
        done.append(label)
        pending.remove(p)
        if step.action == "apply":
            cursor = Cursor(p.session, p.seq, cursor.ts if p.void else p.ts)
    return done, cursor


def test_in_order_snapshots_apply_at_once():
    assert order([snap(0)])[0] == ["apply 0"]
    assert order([snap(1)], at(0))[0] == ["apply 1"]
    assert order([snap(None, session=None, at=5)], Cursor(None, None, T0))[0] == ["apply 5"]


def test_a_buffer_in_any_order_is_applied_in_seq_order():
    items = [snap(s) for s in range(1, 40)]
    random.Random(3).shuffle(items)
    done, cursor = order(items, at(0))
    assert done == [f"apply {s}" for s in range(1, 40)] and cursor.seq == 39


def test_a_gap_waits_for_its_deadline_then_is_declared_missing():
    assert order([snap(3, arrived=0.5), snap(4)], at(1))[0] == ["wait"]
    step = next_step(at(1), [snap(3, arrived=0.5)], NOW)
    assert step.action == "wait" and step.wake_at == NOW - timedelta(seconds=0.5) + timedelta(seconds=GAP_WAIT_S)
    done, cursor = order([snap(3, arrived=GAP_WAIT_S + 0.1), snap(4)], at(1))
    assert done == ["apply 3 (missing 2..2)", "apply 4"] and cursor.seq == 4


def test_a_backlog_declares_a_gap_without_waiting_once_enough_snapshot_time_is_buffered():
    behind = [snap(s) for s in range(3, 3 + int(GAP_SPAN_S) + 1)]
    assert order(behind, at(1))[0][0] == "apply 3 (missing 2..2)"
    full = [snap(s, at=3 + s / 1000) for s in range(3, 3 + MAX_BUFFER)]  # many snapshots in little time
    assert order(full, at(1))[0][0] == "apply 3 (missing 2..2)"


def test_a_snapshot_the_chain_moved_past_is_late_never_dropped():
    done, cursor = order([snap(3)], at(5))
    assert done == ["late 3"] and cursor == at(5)
    assert is_late(snap(5), at(5))  # a redelivery: ingest drops it when its instant is stored
    old_run = snap(7, session="20261124T140000Z-bbbbbb", at=2)  # an older run's backlog after the switch
    assert order([old_run], at(5))[0] == ["late 7"]


def test_a_restart_starts_a_new_run_after_waiting_for_the_old_runs_stragglers():
    new = "20261124T150500Z-cccccc"
    restart = [snap(0, session=new, at=30, arrived=1.0), snap(1, session=new, at=31)]
    assert order(restart, at(20))[0] == ["wait"]
    straggler = snap(21, arrived=0.2)  # the old run's tail arrives within the wait: applied first, in order
    assert order([*restart, straggler], at(20))[0] == ["apply 21", "wait"]
    done, cursor = order([snap(0, session=new, at=30, arrived=GAP_WAIT_S), snap(1, session=new, at=31)], at(20))
    assert done == ["apply 0", "apply 1"] and cursor.session == new
    late_start = [snap(2, session=new, at=32, arrived=GAP_WAIT_S)]  # its seq 0 and 1 never came
    assert order(late_start, at(20))[0] == ["apply 2 (missing 0..1)"]


def test_a_producer_without_session_restarting_seq_is_a_new_run():
    done, cursor = order([snap(0, session=None, at=600, arrived=GAP_WAIT_S)], at(500, None))
    assert done == ["apply 0"] and cursor.seq == 0


def test_the_first_snapshot_of_a_chain_after_seq_zero_waits_briefly_then_declares_the_runs_start_missing():
    assert order([snap(3)])[0] == ["wait"]
    assert order([snap(3, arrived=GAP_WAIT_S), snap(4)])[0] == ["apply 3 (missing 0..2)", "apply 4"]


def test_a_void_fills_its_seq_without_moving_time_and_never_opens_a_gap():
    cursor = at(5)
    done, after = order([snap(6, void=True, at=-10**6), snap(7)], cursor)
    assert done == ["apply 6", "apply 7"] and after.seq == 7
    done, after = order([snap(6, void=True, at=10**6)], cursor)
    assert done == ["apply 6"] and after.ts == cursor.ts  # a bogus time never becomes the chain's
    assert order([snap(4, void=True)], cursor)[0] == ["late 4"]
    assert order([snap(None, void=True, at=0)], cursor)[0] == ["late 0"]


@pytest.mark.parametrize("seed", range(5))
def test_any_arrival_order_of_an_in_order_run_applies_everything_in_order(seed):
    rng = random.Random(seed)
    items = [snap(s, arrived=rng.random()) for s in range(60)]
    rng.shuffle(items)
    cursor, applied, pending = Cursor(), [], []
    for p in items:  # one arrival at a time, as invocations see them
        pending.append(p)
        done, cursor = order(pending, cursor)
        applied += [int(d.split()[1]) for d in done if d.startswith("apply")]
        pending = [q for q in pending if q.seq > (cursor.seq if cursor.seq is not None else -1)]
    assert applied == list(range(60))
