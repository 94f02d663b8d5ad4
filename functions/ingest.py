"""Queue trigger on ``chain-snapshots``: decode, order, score, store, publish.

Idempotent and safe under scale-out: per-chain state is read and written with
ETag concurrency (chainstate.py), snapshots are applied in order
(ordering.py), anomaly rows have deterministic keys so a re-scored snapshot
upserts the same rows. A malformed message raises with the reason; after
``maxDequeueCount`` tries the host moves it to ``chain-snapshots-poison``.
Publishing and notifications are at least once: an instance that flushes
another's pending outbox publishes it again (clients deduplicate by id).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

import azure.functions as func
import orjson

from functions import chainstate, codec, storage, telemetry
from functions.chainstate import StateCache, StoredState
from functions.notify import NotifyConfig, notify
from functions.ordering import decide
from functions.poison import record_failures
from functions.realtime import HUB, SIGNALR_SETTING
from functions.settings import SNAPSHOT_QUEUE, settings
from spyglass.config import DetectorConfig
from spyglass.contract import Anomaly
from spyglass.detect.scorer import Scorer

bp = func.Blueprint()
log = logging.getLogger("spyglass.ingest")
SIGNAL_TYPES = ("mispricing", "parity", "arbitrage")
MAX_CONFLICTS = 8
IN_PROCESS_WAIT = 1.0  # seconds to wait in hand for an earlier snapshot before re-enqueueing
_scorer: Scorer | None = None
_states = StateCache()  # per process: most snapshots need no state read


def scorer() -> Scorer:
    global _scorer
    if _scorer is None:
        _scorer = Scorer(DetectorConfig.from_env())
    return _scorer


def is_signal(a: Anomaly, min_edge: float) -> bool:
    """Actionable: a new, high-severity, tradeable mispricing with edge above the threshold."""
    return (a.type in SIGNAL_TYPES and a.severity == "high" and a.edge is not None and a.edge >= min_edge
            and a.evidence.get("state") == "new")


@bp.queue_trigger(arg_name="msg", queue_name=SNAPSHOT_QUEUE, connection="AzureWebJobsStorage")
@bp.generic_output_binding(arg_name="signalr", type="signalR", hub_name=HUB,
                           connection_string_setting=SIGNALR_SETTING)
@record_failures  # each failed try, for `spyglass poison list` (the host's poison copy keeps only the body)
def ingest(msg: func.QueueMessage, signalr: func.Out[str]) -> None:
    telemetry.configure()
    started = time.perf_counter()
    text, held_since = codec.unwrap_held(msg.get_body().decode("utf-8", errors="replace"))
    try:
        snapshot = codec.decode(text, storage.fetch_blob)
    except (codec.MessageError, codec.SnapshotError) as exc:
        log.error("malformed snapshot message %s (dequeue %s): %s", msg.id, msg.dequeue_count, exc)
        raise
    cfg = settings()
    states = storage.table(cfg.chainstate_table)
    u, expiry = snapshot.underlying, snapshot.expiry.isoformat()
    now = datetime.now(timezone.utc)
    messages: list[dict] = []
    conflicts, patience, pause, scoring_ms, fresh = 0, time.monotonic() + IN_PROCESS_WAIT, 0.02, 0.0, False
    with _states.turn(u, expiry, IN_PROCESS_WAIT) as turn:  # one chain at a time in this process
        while conflicts < MAX_CONFLICTS:
            stored = _states.current(states, u, expiry, fresh)
            if stored.outbox is not None:  # a previous writer committed but may not have written its outputs
                messages += _write_outputs(stored.outbox)
                stored = StoredState(stored.state, chainstate.mark_flushed(states, stored.state, stored.etag))
                _states.remember(u, expiry, stored)
            decision = decide(snapshot, stored.state, held_since, now)
            if decision.action == "skip":
                log.info("snapshot %s skipped: %s", snapshot.key, decision.reason)
                break
            if decision.action == "hold":
                if not fresh:  # the remembered state may be behind what another instance has stored
                    fresh = True
                    continue
                if time.monotonic() < patience:  # the earlier snapshot is usually being scored right now
                    turn.pause(pause)
                    pause = min(pause * 2, 0.2)  # back off: waiting readers must not crowd storage
                    continue
                storage.queue(SNAPSHOT_QUEUE).send_message(codec.hold_envelope(text, held_since or now),
                                                           visibility_timeout=1)
                log.info("snapshot %s held: %s", snapshot.key, decision.reason)
                break
            t_score = time.perf_counter()
            result = scorer().score(snapshot, stored.state)
            scoring_ms = (time.perf_counter() - t_score) * 1e3
            outbox = {"anomalies": [a.to_dict() for a in result.anomalies]}
            if decision.action == "score" or not result.scored:  # refused: the state stays as it was
                messages += _write_outputs(outbox)
                break
            analytics = result.analytics.to_dict() if result.analytics is not None else None
            if analytics is not None:  # idempotent: the same snapshot always writes the same row
                states.upsert_entity(storage.analytics_entity(analytics))
            try:
                etag = chainstate.save(states, result.state, stored.etag, outbox)
            except chainstate.StateConflict:
                conflicts, fresh = conflicts + 1, True
                log.info("snapshot %s: chain state changed under us, deciding again", snapshot.key)
                continue
            if outbox["anomalies"]:
                messages += _write_outputs(outbox)
                etag = chainstate.mark_flushed(states, result.state, etag)
            _states.remember(u, expiry, StoredState(result.state, etag))
            if analytics is not None:
                messages.append({"target": "chain", "arguments": [analytics]})
            break
        else:
            raise RuntimeError(f"snapshot {snapshot.key}: chain state kept changing ({MAX_CONFLICTS} conflicts)")
    if not messages:
        return
    result_anomalies = [m["arguments"][0] for m in messages if m["target"] == "anomaly"]
    signalr.set(orjson.dumps(messages, option=orjson.OPT_SERIALIZE_NUMPY).decode())
    notify([Anomaly.from_dict(a) for a in result_anomalies], states, NotifyConfig.from_env())
    lag = (datetime.now(timezone.utc) - snapshot.ts).total_seconds()
    elapsed = (time.perf_counter() - started) * 1e3
    telemetry.record(scoring_ms, lag, [a["type"] for a in result_anomalies])
    log.info("snapshot %s done in %.1f ms (scoring %.1f ms), queue lag %.2f s, %d anomalies", snapshot.key,
             elapsed, scoring_ms, lag, len(result_anomalies),
             extra={"snapshot": snapshot.key, "anomalies": len(result_anomalies), "queue_lag_s": lag,
                    "scoring_ms": scoring_ms, "invocation_ms": elapsed})


def _write_outputs(outbox: dict) -> list[dict]:
    """Upsert anomalies and signals (idempotent); return the SignalR messages to publish."""
    cfg = settings()
    messages: list[dict] = []
    anomalies = [Anomaly.from_dict(a) for a in outbox["anomalies"]]
    if anomalies:
        storage.upsert_all(storage.table(cfg.anomalies_table), [storage.anomaly_entity(a) for a in anomalies])
        messages += [{"target": "anomaly", "arguments": [a]} for a in outbox["anomalies"]]
        signals = [a for a in anomalies if is_signal(a, scorer().config.signal_min_edge)]
        if signals:
            storage.upsert_all(storage.table(cfg.signals_table), [storage.anomaly_entity(a) for a in signals])
            messages += [{"target": "signal", "arguments": [a.to_dict()]} for a in signals]
    return messages
