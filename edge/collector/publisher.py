"""The publisher: snapshots go into the durable spool first, then a background drain sends them.

``submit`` encodes the snapshot (the compact ``gz:`` form of spyglass/wire/queue.py) and
returns once it is committed to the spool: it never touches the network, so an
outage never blocks the collector. It raises ``SpoolFull`` at the bound (see
edge/collector/spool.py for the policy: refuse new, keep old, alert).

The drain (``start``) sends in spool order with up to ``max_in_flight`` concurrent
sends over one shared HTTP client. The window slides only past the oldest
unacknowledged message, so a message is overtaken by at most ``max_in_flight - 1``
newer ones, even across failures; the consumer (functions/ordering.py) parks a
snapshot whose ``seq`` skips ahead and waits up to 3 s for the missing one, far
longer than that reordering lasts. Each run of the collector stamps its own
producer ``session`` (edge/collector/app.py), so after a restart the spool's old
snapshots and the new run's are told apart. Each send is retried with exponential
backoff and jitter until it succeeds or the publisher stops; the window blocks
meanwhile, so after an outage the spool drains from the oldest message on.

Delivery is at least once: a message sent but not yet deleted when the process
dies is sent again after the restart (at most ``max_in_flight`` plus one ack batch).
The consumer is idempotent: a snapshot whose instant is already stored is a
redelivery and anomaly ids are deterministic, so a duplicate produces nothing new.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Self

from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential, wait_random

from edge.collector import metrics
from edge.collector.publish_queue import QueueSender, QueueTarget
from edge.collector.publish_settings import PublisherSettings
from edge.collector.spool import Entry, Spool, SpoolError, SpoolFull
from spyglass.contract import Snapshot
from spyglass.wire.queue import encode_compact

log = logging.getLogger(__name__)

__all__ = ["Publisher", "PublisherSettings", "QueueTarget", "Spool", "SpoolError", "SpoolFull"]


class Publisher:
    """Spool-then-send. ``submit`` from any thread; ``start`` once; ``stop`` at shutdown (closes the spool)."""

    def __init__(self, spool: Spool, target: QueueTarget, *, max_in_flight: int = 4, read_batch: int = 256,
                 ack_batch: int = 64, ack_interval: float = 0.05, idle_poll: float = 1.0,
                 backoff_initial: float = 0.25, backoff_max: float = 30.0, alert_after: float = 60.0) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.spool = spool
        self.target = target
        self.max_in_flight = max_in_flight
        self.read_batch = max(read_batch, max_in_flight)
        self.ack_batch, self.ack_interval, self.idle_poll = ack_batch, ack_interval, idle_poll
        self.alert_after = alert_after
        self._backoff_initial = backoff_initial
        self._sender = QueueSender(target)
        self._retrying = Retrying(
            wait=wait_exponential(multiplier=backoff_initial, max=backoff_max) + wait_random(0, backoff_initial),
            stop=lambda _state: self._stopping.is_set(),
            sleep=self._backoff_sleep,
            retry=retry_if_exception_type(Exception),
            before_sleep=self._on_failure,
            reraise=True,
        )
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing_since: float | None = None
        self._drain_error: str | None = None
        self._last_error = ""
        self._last_alert = 0.0
        self._state_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: PublisherSettings | None = None, **options: object) -> Publisher:
        """Build from ``PublisherSettings.from_env()`` (or the settings given): spool on the PVC, queue target."""
        s = settings or PublisherSettings.from_env()
        target = s.target()
        spool = Spool(s.spool_path, max_count=s.max_count, max_bytes=s.max_bytes)
        return cls(spool, target, max_in_flight=s.max_in_flight, **options)  # type: ignore[arg-type]

    # -- the collector's side --------------------------------------------------------

    def submit(self, snapshot: Snapshot) -> None:
        """Commit the snapshot to the spool (durable when this returns); SpoolFull if refused."""
        self.spool.append(snapshot.key, snapshot.seq, encode_compact(snapshot.to_json()))
        metrics.SNAPSHOTS.inc()
        self._wake.set()

    def readiness(self) -> tuple[bool, str]:
        """Not ready while the spool refuses snapshots; otherwise ready, with the queue state in words."""
        depth = self.spool.depth
        if self.spool.full:
            return False, f"spool full ({depth} snapshots): new snapshots are refused until the queue drains it"
        if self._drain_error is not None:
            return False, f"publisher drain stopped ({self._drain_error}); {depth} snapshots spooled"
        with self._state_lock:
            since, error = self._failing_since, self._last_error
        if since is not None:
            return True, f"queue failing for {time.monotonic() - since:.0f} s ({error}); {depth} snapshots spooled"
        return True, f"{depth} snapshots spooled"

    @property
    def depth(self) -> int:
        return self.spool.depth

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("publisher already started")
        log.info("publisher draining %s (%d spooled) to %s", self.spool.path, self.spool.depth, self.target.where)
        self._thread = threading.Thread(target=self._drain, name="publisher-drain", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop sending: in-flight sends finish (one attempt each), their acks are recorded, the spool closes.

        What is still spooled is sent by the next process. If a send hangs past ``timeout`` the spool is
        left open for the daemon thread; its message is sent again next time (at least once).
        """
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("publisher drain did not stop within %.1f s; unacknowledged sends will repeat", timeout)
                return
        self.spool.close()
        self.target.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the drain -------------------------------------------------------------------

    def _drain(self) -> None:
        pool = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="publisher-send")
        pending: deque[Entry] = deque()
        window: deque[tuple[Entry, Future[None]]] = deque()
        acked: list[int] = []
        last_read, last_flush = 0, time.monotonic()
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                if len(pending) < self.max_in_flight:
                    fresh = self.spool.read_after(last_read, self.read_batch)
                    if fresh:
                        pending.extend(fresh)
                        last_read = fresh[-1].id
                while pending and len(window) < self.max_in_flight:
                    entry = pending.popleft()
                    window.append((entry, self._dispatch(pool, entry)))
                if not window:
                    last_flush = self._flush(acked)
                    self._wake.wait(self.idle_poll)
                    continue
                wait_futures([window[0][1]], timeout=self.ack_interval)
                while window and window[0][1].done():
                    entry, fut = window.popleft()
                    if fut.exception() is None:
                        acked.append(entry.id)
                    else:  # only when stopping: the message stays spooled
                        pending.appendleft(entry)
                if len(acked) >= self.ack_batch or time.monotonic() - last_flush >= self.ack_interval:
                    last_flush = self._flush(acked)
            # stopping: let the in-flight sends end (their retries stop at once), keep what succeeded
            for entry, fut in window:
                if fut.exception() is None:
                    acked.append(entry.id)
            self._flush(acked)
        except SpoolError as exc:
            if not self._stopping.is_set():
                self._drain_error = str(exc)
                log.error("publisher drain stopped: %s", exc)
        except Exception as exc:  # a bug: say so loudly, the spool still holds everything unacknowledged
            self._drain_error = f"{type(exc).__name__}: {exc}"
            log.exception("publisher drain crashed; spooled snapshots are kept for the next start")
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _dispatch(self, pool: ThreadPoolExecutor, entry: Entry) -> Future[None]:
        """Send on the pool, or inline with one in flight (no thread hand-off per message)."""
        if self.max_in_flight > 1:
            return pool.submit(self._send, entry)
        done: Future[None] = Future()
        try:
            self._send(entry)
            done.set_result(None)
        except Exception as exc:  # noqa: BLE001 - only when stopping, as on the pool
            done.set_exception(exc)
        return done

    def _flush(self, acked: list[int]) -> float:
        if acked:
            self.spool.remove(acked)
            metrics.SENT.inc(len(acked))
            acked.clear()
        return time.monotonic()

    def _send(self, entry: Entry) -> None:
        try:  # the common case costs one attempt and nothing else
            self._attempt(entry)
            return
        except Exception as exc:
            self._failed(exc)
            if self._stopping.is_set():
                raise
        self._backoff_sleep(self._backoff_initial)
        self._retrying.copy()(self._attempt, entry)  # a copy per call: retry statistics are per send

    def _attempt(self, entry: Entry) -> None:
        t0 = time.perf_counter()
        self._sender.send(entry)
        metrics.SEND_SECONDS.observe(time.perf_counter() - t0)
        if self._failing_since is not None:
            self._recovered()

    def _backoff_sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _on_failure(self, state: RetryCallState) -> None:
        self._failed(state.outcome.exception() if state.outcome else None)

    def _failed(self, exc: BaseException | None) -> None:
        metrics.SEND_FAILURES.inc()
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
        now = time.monotonic()
        with self._state_lock:
            first = self._failing_since is None
            if first:
                self._failing_since = now
            self._last_error = reason
            since = self._failing_since
            alert = not first and now - since >= self.alert_after and now - self._last_alert >= self.alert_after
            if alert:
                self._last_alert = now
        if first:
            log.warning("queue send failed, retrying with backoff (%d spooled): %s", self.spool.depth, reason)
        elif alert:
            log.error("queue unreachable for %.0f s, %d snapshots spooled (bound %d): %s",
                      now - since, self.spool.depth, self.spool.max_count, reason)

    def _recovered(self) -> None:
        with self._state_lock:
            since, self._failing_since = self._failing_since, None
            self._last_alert = 0.0
        if since is not None:
            log.warning("queue reachable again after %.1f s; draining %d spooled snapshots",
                        time.monotonic() - since, self.spool.depth)
