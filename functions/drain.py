"""One invocation's work on one chain: take the chain's turn (or park the snapshot), apply what is due in order.

Applying is one conditional transaction on the chain's partition (``functions/chainstate.py``); when
another instance changed the state meanwhile (its ETag), the whole decision is taken again on the
stored state (``Drain.drain``), a few times at most before the chain is left to that instance.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from functions import chainstate, storage
from functions.chainstate import StateCache, StateConflict, StoredState
from functions.ordering import Cursor, Pending, Step, next_step
from functions.outputs import Outputs, delivery_anomaly, scorer, write_outputs
from functions.settings import settings
from spyglass.contract import Snapshot
from spyglass.detect.rules import data_error
from spyglass.detect.state import ChainState
from spyglass.wire import queue as codec
from spyglass.wire import realtime
from spyglass.wire.queue import POISON_QUEUE, SNAPSHOT_QUEUE
from spyglass.wire.tables import analytics_entity

log = logging.getLogger("spyglass.ingest")
MAX_CONFLICTS = 8
DRAIN_BUDGET_S = 1.0  # one invocation applies a chain's backlog for this long, then hands on (a wake)
WATCHDOG_S = 5  # a snapshot parked for a busy chain is looked at again within this, even if its drainer dies
_states = StateCache()  # per process: most snapshots need no state read
_wakes: dict[str, float] = {}  # chain -> when this process's last wake for it is due (monotonic): send fewer
_wakes_lock = threading.Lock()


class _Stale(Exception):
    """The remembered state says wait: read the stored one before waiting on it."""


@dataclass
class Arrival:
    """The snapshot this invocation brought (None for a void: refused before ordering) and its message."""

    pending: Pending
    text: str
    snapshot: Snapshot | None


class Drain:
    """This invocation's work on one chain: take its turn (or leave the snapshot parked), apply in order."""

    def __init__(self, underlying: str, expiry: str, out: Outputs) -> None:
        self.u, self.expiry, self.out = underlying, expiry, out
        self.table = storage.table(settings().chainstate_table)
        self.box = _states.mailbox(underlying, expiry)
        self.hand: Arrival | None = None  # the snapshot this invocation brought, until applied or parked

    def run(self, hand: Arrival | None) -> None:
        box = self.box
        if not box.enter():  # another invocation here holds the chain: leave ours for it, never wait
            if hand is not None:
                self.park(hand)
                hand = None
            box.knock()
            if not box.enter():
                self.wake(WATCHDOG_S)  # in case its process dies before it looks again
                return
        holding = True
        try:
            while True:
                box.take_knock()
                hand = self.drain(hand)
                if box.take_knock():
                    continue
                holding = False
                if not box.leave():
                    return
                holding = True
        finally:
            if holding:
                box.release()

    def park(self, hand: Arrival) -> None:
        if hand.pending.key is None:
            hand.pending = chainstate.park(self.table, self.u, self.expiry, hand.pending, hand.text)

    def wake(self, delay: float) -> None:
        """Have this chain looked at again in ``delay`` seconds (a tiny message; at most one per due time)."""
        key, due = f"{self.u}:{self.expiry}", time.monotonic() + delay
        with _wakes_lock:
            if time.monotonic() < _wakes.get(key, 0.0) <= due + 0.5:
                return  # an earlier wake of this process is still coming
            _wakes[key] = due
        storage.queue(SNAPSHOT_QUEUE).send_message(codec.wake_message(self.u, self.expiry),
                                                   visibility_timeout=max(0, math.ceil(delay)))

    def drain(self, hand: Arrival | None) -> None:
        """Apply what is due; park ``hand`` if its turn has not come. Returns with ``hand`` consumed or parked.

        Each pass decides on one read of the chain's state; a pass that finds the remembered state
        behind, or loses a commit to another instance (its ETag moved), is taken again on the stored state.
        """
        self.hand, started, conflicts, fresh = hand, time.monotonic(), 0, False
        while True:
            try:
                return self.drain_pass(fresh, started)
            except _Stale:
                fresh = True
            except StateConflict:
                conflicts, fresh = conflicts + 1, True
                log.info("%s-%s: chain state changed under us (%d), deciding again", self.u, self.expiry, conflicts)
                if conflicts >= MAX_CONFLICTS:  # another instance is draining it: leave ours parked for it
                    return self.hand_on(1)

    def drain_pass(self, fresh: bool, started: float) -> None:
        """Apply in order until nothing is due, the next must wait, or the time budget is spent."""
        stored = self.flush(_states.current(self.table, self.u, self.expiry, fresh))
        pending = self.pending()
        while (step := next_step(stored.cursor, pending, datetime.now(timezone.utc))) is not None:
            if step.action == "wait":
                if not fresh:  # the remembered state may be behind what another instance stored
                    raise _Stale
                log.info("%s-%s waits: %s", self.u, self.expiry, step.reason)
                return self.hand_on((step.wake_at - datetime.now(timezone.utc)).total_seconds())
            mine = self.hand is not None and step.item is self.hand.pending
            stored = self.take(stored, step, self.hand if mine else None)
            pending.remove(step.item)
            if mine:
                self.hand = None
            if pending and time.monotonic() - started > DRAIN_BUDGET_S:  # let other chains have the thread
                return self.hand_on(0)
        return None

    def pending(self) -> list[Pending]:
        """What is parked for this chain, plus the snapshot in hand (one of them, if it is a redelivery)."""
        pending = chainstate.parked(self.table, self.u, self.expiry)
        hand = self.hand
        if hand is not None:
            twin = chainstate.park_key(hand.pending)
            if any(p.key == twin for p in pending):
                pending = [p for p in pending if p.key != twin]
                hand.pending = replace(hand.pending, key=twin)
            pending.append(hand.pending)
        return pending

    def hand_on(self, delay: float) -> None:
        """Leave the rest for later: park the snapshot in hand, have the chain looked at in ``delay`` seconds."""
        if self.hand is not None:
            self.park(self.hand)
        self.wake(delay)

    def flush(self, stored: StoredState) -> StoredState:
        """A previous writer committed but may not have written its outputs: write them first."""
        if stored.outbox is None:
            return stored
        self.out.messages += write_outputs(stored.outbox["anomalies"], stored.outbox.get("outcomes", []))
        flushed = replace(stored, outbox=None, etag=chainstate.mark_flushed(self.table, stored.state, stored.etag))
        _states.remember(self.u, self.expiry, flushed)
        return flushed if flushed.etag else self.flush(_states.current(self.table, self.u, self.expiry, True))

    def take(self, stored: StoredState, step: Step, hand: Arrival | None) -> StoredState:
        item = step.item
        assert item is not None
        if item.void:  # fills its seq; its data error was written when it arrived
            if step.action == "late":
                if item.key:
                    chainstate.unpark(self.table, self.u, self.expiry, item.key)
                return stored
            cursor = Cursor(item.session, item.seq, stored.cursor.ts)
            return self.commit(stored, stored.state or ChainState(self.u, self.expiry), cursor, [], unpark=item.key)
        if step.action == "late" and chainstate.stored_at(self.table, self.u, self.expiry, item.ts):
            if item.key:  # a redelivery of a snapshot already stored
                chainstate.unpark(self.table, self.u, self.expiry, item.key)
            return stored
        snapshot = hand.snapshot if hand is not None else self.unparked(item)
        if snapshot is None:
            return stored
        if step.action == "late":
            return self.late(stored, item, snapshot, step.reason)
        return self.apply(stored, step, snapshot)

    def apply(self, stored: StoredState, step: Step, snapshot: Snapshot) -> StoredState:
        t0 = time.perf_counter()
        result = scorer().score(snapshot, stored.state)
        self.out.scoring_ms += (time.perf_counter() - t0) * 1e3
        anomalies = [a.to_dict() for a in result.anomalies]
        counts = dict(stored.counts)
        if step.missing is not None:
            first, last = step.missing
            finding = data_error.missing(snapshot.session, first, last, step.waited_s, snapshot.ts)
            at = stored.cursor.ts + timedelta(milliseconds=1) if stored.cursor.ts else snapshot.ts
            anomalies.append(delivery_anomaly(self.u, self.expiry, at, finding).to_dict())
            counts["missing"] = counts.get("missing", 0) + last - first + 1
            log.warning("%s-%s: %s", self.u, self.expiry, finding.summary)
        analytics = result.analytics.to_dict() if result.scored and result.analytics is not None else None
        cursor = Cursor(snapshot.session, snapshot.seq, result.state.last_ts)
        history = (analytics_entity(analytics, snapshot.session, enqueued=step.item.enqueued)
                   if analytics is not None else None)
        stored = self.commit(stored, result.state, cursor, anomalies, counts, history, step.item.key,
                             [m.to_dict() for m in result.outcomes])
        if analytics is not None:
            self.out.messages.append(realtime.message(realtime.CHAIN, analytics))
            self.out.lag_s = (settings().now() - snapshot.ts).total_seconds()
        return stored

    def late(self, stored: StoredState, item: Pending, snapshot: Snapshot, reason: str) -> StoredState:
        """Stored, marked late: its analytics from this snapshot alone; its anomalies would be stale, so none."""
        result = scorer().score(snapshot, None)
        if not result.scored or result.analytics is None:  # e.g. after the close: say why, as in order
            self.out.messages += write_outputs([a.to_dict() for a in result.anomalies])
            if item.key:
                chainstate.unpark(self.table, self.u, self.expiry, item.key)
            return stored
        log.warning("%s late: %s; stored, marked late", snapshot.key, reason)
        history = analytics_entity(result.analytics.to_dict(), snapshot.session, late=reason,
                                           enqueued=item.enqueued)
        counts = {**stored.counts, "late": stored.counts.get("late", 0) + 1}
        assert stored.state is not None  # a late snapshot is behind an applied one
        return self.commit(stored, stored.state, stored.cursor, [], counts, history, item.key)

    def commit(self, stored: StoredState, state: ChainState, cursor: Cursor, anomalies: list[dict],
               counts: dict[str, int] | None = None, history: dict | None = None,
               unpark: str | None = None, outcomes: list[dict] | None = None) -> StoredState:
        outbox = {"anomalies": anomalies, "outcomes": outcomes or []}
        etag = chainstate.commit(self.table, stored, state, cursor, outbox, counts, history, unpark)
        now = StoredState(state, etag, None, cursor, counts if counts is not None else stored.counts)
        if anomalies or outcomes:
            self.out.messages += write_outputs(anomalies, outcomes or [])
            now = replace(now, etag=chainstate.mark_flushed(self.table, state, etag))
        _states.remember(self.u, self.expiry, now)
        return now if now.etag else _states.current(self.table, self.u, self.expiry, True)

    def unparked(self, item: Pending) -> Snapshot | None:
        """A parked snapshot's message, decoded again; one that no longer decodes goes to the poison queue."""
        assert item.key is not None
        text = chainstate.parked_message(self.table, self.u, self.expiry, item.key)
        if text is None:
            raise StateConflict("applied meanwhile by another instance")
        try:
            return codec.decode(text, storage.fetch_blob, settings().claim_container)
        except (codec.MessageError, codec.SnapshotError) as exc:  # e.g. its claim-check blob was deleted
            log.error("parked snapshot %s of %s-%s no longer decodes (%s): moved to the poison queue",
                      item.key, self.u, self.expiry, exc)
            storage.queue(POISON_QUEUE).send_message(text)
            chainstate.unpark(self.table, self.u, self.expiry, item.key)
            return None
