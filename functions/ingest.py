"""Queue trigger on ``chain-snapshots``: decode, check the clock, order, score, store, publish.

Every message is acknowledged quickly and nothing waits holding a worker thread:

- a snapshot whose turn has come is applied at once (``functions/ordering.py``);
- one that must wait (a gap before it, or its chain busy with another invocation in this
  process) is **parked** in the chain's buffer in storage and acknowledged; whoever holds the
  chain's turn applies it in order, and a ``chain-wake/1`` message sent with the gap's deadline as
  its visibility delay makes sure the chain is looked at again even if nothing else arrives;
- a snapshot stamped too far from the app's clock is a ``data_error`` (clock_skew) that never
  moves the chain; one that arrives after its chain has moved past it is stored, marked late.

Idempotent and safe under scale-out: applying a snapshot is one conditional transaction on the
chain's partition (``functions/chainstate.py``), anomaly rows have deterministic keys, and a
snapshot whose instant is already stored is a redelivery. A malformed message raises with the
reason; after ``maxDequeueCount`` tries the host moves it to ``chain-snapshots-poison``. Publishing
and notifications are at least once (clients deduplicate by id).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import azure.functions as func
import orjson

from functions import chainstate, storage, telemetry
from functions.chainstate import StateCache, StateConflict, StoredState
from functions.notify import NotifyConfig, notify
from functions.ordering import Cursor, Pending, Step, next_step
from functions.poison import record_failures
from functions.realtime import SIGNALR_SETTING
from functions.settings import settings
from spyglass.config import DetectorConfig
from spyglass.contract import Anomaly, Snapshot, iso_ms
from spyglass.detect.finding import Finding
from spyglass.detect.rules import data_error
from spyglass.detect.scorer import Scorer
from spyglass.detect.state import ChainState
from spyglass.wire import queue as codec
from spyglass.wire import realtime
from spyglass.wire.queue import POISON_QUEUE, SNAPSHOT_QUEUE
from spyglass.wire.tables import analytics_entity, anomaly_entity

bp = func.Blueprint()
log = logging.getLogger("spyglass.ingest")
SIGNAL_TYPES = ("mispricing", "parity", "arbitrage")
MAX_CONFLICTS = 8
DRAIN_BUDGET_S = 1.0  # one invocation applies a chain's backlog for this long, then hands on (a wake)
WATCHDOG_S = 5  # a snapshot parked for a busy chain is looked at again within this, even if its drainer dies
_scorer: Scorer | None = None
_states = StateCache()  # per process: most snapshots need no state read
_wakes: dict[str, float] = {}  # chain -> when this process's last wake for it is due (monotonic): send fewer
_wakes_lock = threading.Lock()


def scorer() -> Scorer:
    global _scorer
    if _scorer is None:
        _scorer = Scorer(DetectorConfig.from_env())
    return _scorer


def is_signal(a: Anomaly, min_edge: float) -> bool:
    """Actionable: a new, high-severity, tradeable mispricing with edge above the threshold."""
    return (a.type in SIGNAL_TYPES and a.severity == "high" and a.edge is not None and a.edge >= min_edge
            and a.evidence.get("state") == "new")


class _Stale(Exception):
    """The remembered state says wait: read the stored one before waiting on it."""


@dataclass
class Arrival:
    """The snapshot this invocation brought (None for a void: refused before ordering) and its message."""

    pending: Pending
    text: str
    snapshot: Snapshot | None


@dataclass
class Outputs:
    messages: list[dict] = field(default_factory=list)  # SignalR
    scoring_ms: float = 0.0
    lag_s: float | None = None


@bp.queue_trigger(arg_name="msg", queue_name=SNAPSHOT_QUEUE, connection="AzureWebJobsStorage")
@bp.generic_output_binding(arg_name="signalr", type="signalR", hub_name=realtime.HUB,
                           connection_string_setting=SIGNALR_SETTING)
@record_failures  # each failed try, for `spyglass poison list` (the host's poison copy keeps only the body)
def ingest(msg: func.QueueMessage, signalr: func.Out[str]) -> None:
    telemetry.configure()
    started = time.perf_counter()
    out = Outputs()
    try:
        text, _ = codec.unwrap_held(msg.get_body().decode("utf-8", errors="replace"))
        wake = codec.wake_of(text)
        if wake is not None:
            Drain(wake.underlying, wake.expiry, out).run(None)
        else:
            snapshot = codec.decode(text, storage.fetch_blob, settings().claim_container)
            hand = _arrive(snapshot, text, msg.insertion_time, out)
            if hand is not None:
                Drain(snapshot.underlying, snapshot.expiry.isoformat(), out).run(hand)
    except (codec.MessageError, codec.SnapshotError) as exc:
        log.error("malformed snapshot message %s (dequeue %s): %s", msg.id, msg.dequeue_count, exc)
        raise
    _publish(out, signalr, started)


def _arrive(snapshot: Snapshot, text: str, enqueued: datetime | None, out: Outputs) -> Arrival | None:
    """The snapshot as the ordering sees it; a clock error is reported here and only fills its seq."""
    cfg = settings()
    now = datetime.now(timezone.utc)
    skew = data_error.clock_skew(snapshot.ts, cfg.now(), cfg.max_ahead_s, cfg.max_behind_s)
    if skew is not None:
        log.warning("snapshot %s refused: %s", snapshot.key, skew.summary)
        out.messages += _write_outputs([_delivery_anomaly(snapshot.underlying, snapshot.expiry.isoformat(),
                                                          snapshot.ts, skew).to_dict()])
        if snapshot.seq is None:
            return None
        return Arrival(Pending(snapshot.ts, snapshot.seq, snapshot.session, now, void=True), text, None)
    return Arrival(Pending(snapshot.ts, snapshot.seq, snapshot.session, now, enqueued=enqueued), text, snapshot)


class Drain:
    """This invocation's work on one chain: take its turn (or leave the snapshot parked), apply in order."""

    def __init__(self, underlying: str, expiry: str, out: Outputs) -> None:
        self.u, self.expiry, self.out = underlying, expiry, out
        self.table = storage.table(settings().chainstate_table)
        self.box = _states.mailbox(underlying, expiry)

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
        """Apply what is due; park ``hand`` if its turn has not come. Returns with ``hand`` consumed or parked."""
        started, conflicts, fresh = time.monotonic(), 0, False
        while True:
            stored = self.flush(_states.current(self.table, self.u, self.expiry, fresh))
            pending = chainstate.parked(self.table, self.u, self.expiry)
            if hand is not None:
                twin = chainstate.park_key(hand.pending)  # a redelivery of what is parked: one of them
                if any(p.key == twin for p in pending):
                    pending = [p for p in pending if p.key != twin]
                    hand.pending = replace(hand.pending, key=twin)
                pending.append(hand.pending)
            try:
                while (step := next_step(stored.cursor, pending, datetime.now(timezone.utc))) is not None:
                    if step.action == "wait":
                        if not fresh:  # the remembered state may be behind what another instance stored
                            raise _Stale
                        if hand is not None:
                            self.park(hand)
                        self.wake((step.wake_at - datetime.now(timezone.utc)).total_seconds())
                        log.info("%s-%s waits: %s", self.u, self.expiry, step.reason)
                        return None
                    mine = hand is not None and step.item is hand.pending
                    stored = self.take(stored, step, hand if mine else None)
                    pending.remove(step.item)
                    hand = None if mine else hand
                    if pending and time.monotonic() - started > DRAIN_BUDGET_S:  # let other chains have the thread
                        if hand is not None:
                            self.park(hand)
                        self.wake(0)
                        return None
                return None
            except _Stale:
                fresh = True
            except StateConflict:
                conflicts, fresh = conflicts + 1, True
                log.info("%s-%s: chain state changed under us (%d), deciding again", self.u, self.expiry, conflicts)
                if conflicts >= MAX_CONFLICTS:  # another instance is draining it: leave ours parked for it
                    if hand is not None:
                        self.park(hand)
                    self.wake(1)
                    return None

    def flush(self, stored: StoredState) -> StoredState:
        """A previous writer committed but may not have written its outputs: write them first."""
        if stored.outbox is None:
            return stored
        self.out.messages += _write_outputs(stored.outbox["anomalies"])
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
            anomalies.append(_delivery_anomaly(self.u, self.expiry, at, finding).to_dict())
            counts["missing"] = counts.get("missing", 0) + last - first + 1
            log.warning("%s-%s: %s", self.u, self.expiry, finding.summary)
        analytics = result.analytics.to_dict() if result.scored and result.analytics is not None else None
        cursor = Cursor(snapshot.session, snapshot.seq, result.state.last_ts)
        history = (analytics_entity(analytics, snapshot.session, enqueued=step.item.enqueued)
                   if analytics is not None else None)
        stored = self.commit(stored, result.state, cursor, anomalies, counts, history, step.item.key)
        if analytics is not None:
            self.out.messages.append(realtime.message(realtime.CHAIN, analytics))
            self.out.lag_s = (settings().now() - snapshot.ts).total_seconds()
        return stored

    def late(self, stored: StoredState, item: Pending, snapshot: Snapshot, reason: str) -> StoredState:
        """Stored, marked late: its analytics from this snapshot alone; its anomalies would be stale, so none."""
        result = scorer().score(snapshot, None)
        if not result.scored or result.analytics is None:  # e.g. after the close: say why, as in order
            self.out.messages += _write_outputs([a.to_dict() for a in result.anomalies])
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
               unpark: str | None = None) -> StoredState:
        outbox = {"anomalies": anomalies}
        etag = chainstate.commit(self.table, stored, state, cursor, outbox, counts, history, unpark)
        now = StoredState(state, etag, None, cursor, counts if counts is not None else stored.counts)
        if anomalies:
            self.out.messages += _write_outputs(anomalies)
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


def _delivery_anomaly(underlying: str, expiry: str, ts: datetime, f: Finding) -> Anomaly:
    """A snapshot-level data_error about delivery (clock, gap), outside the scorer."""
    from datetime import date

    return Anomaly(underlying=underlying, expiry=date.fromisoformat(expiry), ts=ts, right=None, strike=None,
                   type=f.type, score=f.score, severity=f.severity, edge=None,
                   evidence={"summary": f.summary, "rule": f.rule, "state": "new", "first_seen": iso_ms(ts),
                             **f.numbers},
                   data_quality={"grade": "poor", "two_sided_share": 0.0, "notes": [f.summary]})


def _publish(out: Outputs, signalr: func.Out[str], started: float) -> None:
    if not out.messages:
        return
    anomalies = realtime.payloads(out.messages, realtime.ANOMALY)
    signalr.set(orjson.dumps(out.messages, option=orjson.OPT_SERIALIZE_NUMPY).decode())
    notify([Anomaly.from_dict(a) for a in anomalies], storage.table(settings().chainstate_table),
           NotifyConfig.from_env())
    elapsed = (time.perf_counter() - started) * 1e3
    chains = len(realtime.payloads(out.messages, realtime.CHAIN))
    if out.lag_s is not None:
        telemetry.record(out.scoring_ms, out.lag_s, [a["type"] for a in anomalies])
    log.info("%d snapshot(s) applied in %.1f ms (scoring %.1f ms), queue lag %s s, %d anomalies", chains, elapsed,
             out.scoring_ms, "-" if out.lag_s is None else f"{out.lag_s:.2f}", len(anomalies),
             extra={"snapshots": chains, "anomalies": len(anomalies), "queue_lag_s": out.lag_s,
                    "scoring_ms": out.scoring_ms, "invocation_ms": elapsed})


def _write_outputs(outbox: list[dict]) -> list[dict]:
    """Upsert anomalies and signals (idempotent); return the SignalR messages to publish."""
    cfg = settings()
    messages: list[dict] = []
    anomalies = [Anomaly.from_dict(a) for a in outbox]
    if anomalies:
        storage.upsert_all(storage.table(cfg.anomalies_table), [anomaly_entity(a) for a in anomalies])
        messages += [realtime.message(realtime.ANOMALY, a) for a in outbox]
        signals = [a for a in anomalies if is_signal(a, scorer().config.signal_min_edge)]
        if signals:
            storage.upsert_all(storage.table(cfg.signals_table), [anomaly_entity(a) for a in signals])
            messages += [realtime.message(realtime.SIGNAL, a.to_dict()) for a in signals]
    return messages
