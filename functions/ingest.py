"""Queue trigger on ``chain-snapshots``: decode, check the clock, order, score, store, publish.

Every message is acknowledged quickly and nothing waits holding a worker thread:

- a snapshot whose turn has come is applied at once (``functions/drain.py``, ``functions/ordering.py``);
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
import time
from datetime import datetime, timezone

import azure.functions as func
import orjson

from functions import storage, telemetry
from functions.drain import Arrival, Drain
from functions.notify import NotifyConfig, notify
from functions.ordering import Pending
from functions.outputs import Outputs, delivery_anomaly, write_outputs
from functions.poison import record_failures
from functions.realtime import SIGNALR_SETTING
from functions.settings import settings
from spyglass.contract import Anomaly, Snapshot
from spyglass.detect.rules import data_error
from spyglass.wire import queue as codec
from spyglass.wire import realtime
from spyglass.wire.queue import SNAPSHOT_QUEUE

bp = func.Blueprint()
log = logging.getLogger("spyglass.ingest")
log.setLevel(logging.INFO)  # one line per invocation (its snapshot key) whatever the root level: docs/operations.md


@bp.queue_trigger(arg_name="msg", queue_name=SNAPSHOT_QUEUE, connection="AzureWebJobsStorage")
@bp.generic_output_binding(arg_name="signalr", type="signalR", hub_name=realtime.HUB,
                           connection_string_setting=SIGNALR_SETTING)
@record_failures  # each failed try, for `spyglass poison list` (the host's poison copy keeps only the body)
def ingest(msg: func.QueueMessage, signalr: func.Out[str]) -> None:
    telemetry.configure()
    started = time.perf_counter()
    out = Outputs()
    subject = f"message {msg.id}"
    try:
        text, _ = codec.unwrap_held(msg.get_body().decode("utf-8", errors="replace"))
        wake = codec.wake_of(text)
        if wake is not None:
            subject = f"wake {wake.underlying}:{wake.expiry}"
            Drain(wake.underlying, wake.expiry, out).run(None)
        else:
            snapshot = codec.decode(text, storage.fetch_blob, settings().claim_container)
            subject = snapshot.key
            hand = _arrive(snapshot, text, msg.insertion_time, out)
            if hand is not None:
                Drain(snapshot.underlying, snapshot.expiry.isoformat(), out).run(hand)
    except (codec.MessageError, codec.SnapshotError) as exc:
        log.error("malformed snapshot message %s (dequeue %s): %s", msg.id, msg.dequeue_count, exc)
        raise
    _publish(out, signalr, started, subject)


def _arrive(snapshot: Snapshot, text: str, enqueued: datetime | None, out: Outputs) -> Arrival | None:
    """The snapshot as the ordering sees it; a clock error is reported here and only fills its seq."""
    cfg = settings()
    now = datetime.now(timezone.utc)
    skew = data_error.clock_skew(snapshot.ts, cfg.now(), cfg.max_ahead_s, cfg.max_behind_s)
    if skew is not None:
        log.warning("snapshot %s refused: %s", snapshot.key, skew.summary)
        out.messages += write_outputs([delivery_anomaly(snapshot.underlying, snapshot.expiry.isoformat(),
                                                        snapshot.ts, skew).to_dict()])
        if snapshot.seq is None:
            return None
        return Arrival(Pending(snapshot.ts, snapshot.seq, snapshot.session, now, void=True), text, None)
    return Arrival(Pending(snapshot.ts, snapshot.seq, snapshot.session, now, enqueued=enqueued), text, snapshot)


def _publish(out: Outputs, signalr: func.Out[str], started: float, subject: str) -> None:
    """Publish what this invocation produced and log one line about it: 0 applied is a snapshot parked for its turn."""
    anomalies = realtime.payloads(out.messages, realtime.ANOMALY)
    if out.messages:
        signalr.set(orjson.dumps(out.messages, option=orjson.OPT_SERIALIZE_NUMPY).decode())
        notify([Anomaly.from_dict(a) for a in anomalies], storage.table(settings().chainstate_table),
               NotifyConfig.from_env())
    elapsed = (time.perf_counter() - started) * 1e3
    chains = len(realtime.payloads(out.messages, realtime.CHAIN))
    if out.lag_s is not None:
        telemetry.record(out.scoring_ms, out.lag_s, [a["type"] for a in anomalies])
    log.info("%s: %d snapshot(s) applied in %.1f ms (scoring %.1f ms), queue lag %s s, %d anomalies", subject, chains,
             elapsed, out.scoring_ms, "-" if out.lag_s is None else f"{out.lag_s:.2f}", len(anomalies),
             extra={"snapshot_key": subject, "snapshots": chains, "anomalies": len(anomalies), "queue_lag_s": out.lag_s,
                    "scoring_ms": out.scoring_ms, "invocation_ms": elapsed})
