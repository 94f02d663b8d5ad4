"""Ingest scenarios on the local stack: producers, faults and hostile messages, each with its outcome.

Shared by ``tests/stack/test_ingest_scenarios.py`` (small counts) and ``bench/bench_ingest.py``
(the issue's counts). Each runner sends snapshots as real producers do (bursts from several
senders, shuffled and live streams, the edge publisher, a collector process), breaks what the
scenario breaks, waits until the queue is drained, and returns ``devstack.ledger.Outcome`` per
chain: applied in order, late, declared missing, refused, poisoned, silently lost, longest stall.

Every chain's data is stamped on ``DAY`` before the app's clock (``CLOCK_START``, 15:00 New York),
as a backlog is, except where a scenario stamps "now" on purpose.
"""

from __future__ import annotations

import base64
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import orjson
from azure.core.exceptions import ResourceNotFoundError

from devstack.ledger import Outcome, Sent, expected_onsets, queue, settle
from devstack.proc import REPO
from devstack.stack import LocalStack
from spyglass.clock import NEW_YORK
from spyglass.contract import iso_ms, parse_iso
from spyglass.sim import InjectionConfig, SimConfig, simulate_day
from spyglass.wire.queue import CLAIM_CHECK, encode_compact

DAY = date(2026, 11, 24)
CLOCK_START = "2026-11-24T20:00:00.000Z"
CONTRACT_ERRORS = ("crossed", "negative", "nan", "missing_ask")  # snapshot-level ones reorder or repeat on purpose


def stack(**kw: object) -> LocalStack:
    """A local stack for the scenarios: Azurite on disk (it is killed and restarted), the app's clock set."""
    from devstack.azurite import Azurite

    return LocalStack(azurite=Azurite(), clock_start=CLOCK_START, **kw)  # type: ignore[arg-type]


def docs(underlying: str, n: int, *, seed: int = 1, start: str = "10:00", interval: float = 1.0,
         rate: float = 60.0, **sim: object) -> list[dict]:
    """``n`` simulated snapshots of ``underlying`` on DAY, seq 0.., with injected anomalies (``rate``/hour/type)."""
    injection = InjectionConfig(rates={t: rate for t in InjectionConfig().rates}, data_error_subtypes=CONTRACT_ERRORS,
                                warmup_s=15.0)
    cfg = SimConfig(underlying=underlying, trading_date=DAY, start=start, interval_s=interval, seed=seed,
                    **{"spot": 500.0, **sim}, injection=injection)  # type: ignore[arg-type]
    out = []
    for d in simulate_day(cfg):
        out.append(d)
        if len(out) >= n:
            break
    return out


class Producer:
    """Sends snapshots to ``chain-snapshots`` and remembers what the queue accepted, and when."""

    def __init__(self, conn: str) -> None:
        self.queue = queue(conn)
        self.sent: list[Sent] = []
        self._lock = threading.Lock()

    def send(self, doc: dict, text: str | None = None) -> Sent:
        """Enqueue one snapshot (compact form unless ``text`` is given), retrying while storage is down."""
        body = text if text is not None else encode_compact(orjson.dumps(doc))
        for attempt in range(300):
            sending = datetime.now(timezone.utc)  # the queue's own insertion time has a one-second resolution
            try:
                self.queue.send_message(body)
                break
            except Exception:  # noqa: BLE001 - storage restarting: retry as a spool drain would
                if attempt == 299:
                    raise
                time.sleep(0.2)
        return self.record(doc, sending)

    def record(self, doc: dict, enqueued: datetime) -> Sent:
        s = Sent(doc["underlying"], doc["expiry"], iso_ms(parse_iso(doc["ts"])), doc.get("seq"), doc.get("session"),
                 enqueued)
        with self._lock:
            self.sent.append(s)
        return s

    def burst(self, batch: list[dict], senders: int = 8) -> None:
        """Send in order through ``senders`` concurrent senders, as a spool drain after an outage does."""
        with ThreadPoolExecutor(senders) as pool:
            list(pool.map(self.send, batch))

    def shuffled(self, batch: list[dict], window: int, spacing: float, seed: int = 0) -> None:
        """Send each block of ``window`` snapshots in a random order, one every ``spacing`` seconds."""
        rng = random.Random(seed)
        order = []
        for i in range(0, len(batch), window):
            block = batch[i:i + window]
            rng.shuffle(block)
            order += block
        paced(order, spacing, self.send)

    def live(self, batch: list[dict], spacing: float) -> threading.Thread:
        """A live chain: one snapshot every ``spacing`` seconds, in a background thread."""
        t = threading.Thread(target=paced, args=(batch, spacing, self.send), daemon=True)
        t.start()
        return t

    def snapshot(self) -> list[Sent]:
        with self._lock:
            return list(self.sent)


def paced(items: Iterable, spacing: float, fn: Callable) -> None:
    start = time.monotonic()
    for n, item in enumerate(items):
        delay = start + n * spacing - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        fn(item)


def history_count(conn: str, underlying: str) -> int:
    from azure.data.tables import TableClient

    from spyglass.wire.tables import chain_partition

    rows = TableClient.from_connection_string(conn, "chainstate").query_entities(
        "PartitionKey eq @pk and RowKey lt @end", parameters={"pk": chain_partition(underlying, DAY.isoformat()),
                                                              "end": ":"}, select=["RowKey"])
    try:
        return sum(1 for _ in rows)
    except ResourceNotFoundError:  # no table before the app's first write
        return 0


def _settle(s: LocalStack, p: Producer, timeout: float, expected: dict | None = None, **kw: object) -> dict[str, Outcome]:
    return settle(s.storage_connection, p.snapshot, timeout=timeout, expected=expected, **kw)


# -- scenarios ---------------------------------------------------------------------------------


def burst(s: LocalStack, n: int = 600, senders: int = 8, live_n: int = 30, timeout: float = 300.0,
          name: str = "BRST", live: str = "LIVE") -> dict[str, Outcome]:
    """``n`` seq-ordered snapshots sent by ``senders`` concurrent senders while another chain streams live."""
    p = Producer(s.storage_connection)
    batch, live_docs = docs(name, n, seed=3), docs(live, live_n, seed=4, start="14:00")
    streaming = p.live(live_docs, 1.0)
    time.sleep(3.0)  # the live chain is flowing before the burst lands on the same queue
    p.burst(batch, senders)
    streaming.join()
    return _settle(s, p, timeout, {name: expected_onsets(batch), live: expected_onsets(live_docs)})


def shuffled(s: LocalStack, n: int, window: int, spacing: float, name: str, timeout: float = 120.0) -> dict[str, Outcome]:
    """Snapshots sent one every ``spacing`` s, each block of ``window`` in a random order."""
    p = Producer(s.storage_connection)
    batch = docs(name, n, seed=window)
    p.shuffled(batch, window, spacing, seed=window)
    return _settle(s, p, timeout, {name: expected_onsets(batch)})


def host_kill(s: LocalStack, n: int = 600, senders: int = 8, kill_at: int = 200, live_n: int = 40,
              timeout: float = 900.0, name: str = "KILL", live: str = "KLIV") -> tuple[dict[str, Outcome], float]:
    """kill -9 of the Functions host mid-burst, restarted at once; returns (outcome, seconds to restart)."""
    p = Producer(s.storage_connection)
    batch, live_docs = docs(name, n, seed=6), docs(live, live_n, seed=7, start="14:00")
    streaming = p.live(live_docs, 1.0)
    sending = threading.Thread(target=p.burst, args=(batch, senders), daemon=True)
    sending.start()
    deadline = time.monotonic() + timeout
    while history_count(s.storage_connection, name) < kill_at and time.monotonic() < deadline:
        time.sleep(0.1)
    t0 = time.monotonic()
    s.kill_host()
    s.start_host()
    recovered = datetime.now(timezone.utc)
    restart = time.monotonic() - t0
    sending.join()
    streaming.join()
    outcome = _settle(s, p, timeout, {name: expected_onsets(batch), live: expected_onsets(live_docs)},
                      recovered=recovered)
    return outcome, restart


def load(s: LocalStack, chains: int = 6, n: int = 250, timeout: float = 600.0) -> dict[str, Outcome]:
    """``chains`` producers, each sending its own chain strictly in order, as fast as the queue takes them."""
    p = Producer(s.storage_connection)
    batches = [docs(f"LD{chr(65 + i)}", n, seed=20 + i) for i in range(chains)]
    with ThreadPoolExecutor(chains) as pool:
        list(pool.map(lambda b: [p.send(d) for d in b], batches))
    return _settle(s, p, timeout, {b[0]["underlying"]: expected_onsets(b) for b in batches})


def clock(s: LocalStack, n: int = 30, spacing: float = 0.25,
          timeout: float = 90.0) -> tuple[dict[str, Outcome], dict[str, str | None]]:
    """Live chains stamped now, one snapshot 10 minutes ahead, one stamped 1900; returns (outcome, latest ts).

    ``CLK``: seq k stamped now; seq 10 is stamped 10 minutes ahead, seq 20 in 1900. ``OLD``: a new
    chain whose first snapshot is stamped 1900, then live ones.
    """
    p = Producer(s.storage_connection)
    clk, old = docs("CLK", n, seed=8, start="14:50"), docs("OLD", n // 2, seed=9, start="14:50")

    def stamped(d: dict) -> None:
        now = s.app_now()
        bogus = {("CLK", 10): now + timedelta(minutes=10), ("CLK", 20): datetime(1900, 1, 1, 15, tzinfo=timezone.utc),
                 ("OLD", 0): datetime(1900, 1, 1, 15, tzinfo=timezone.utc)}
        p.send({**d, "ts": iso_ms(bogus.get((d["underlying"], d["seq"]), now))})

    paced([x for pair in zip(clk, old + [None] * n) for x in pair if x is not None], spacing, stamped)
    outcome = _settle(s, p, timeout)
    latest = {}
    for u in ("CLK", "OLD"):
        r = httpx.get(f"{s.api}/chain/latest", params={"underlying": u},
                      headers={"x-functions-key": s.function_key}, timeout=10)
        latest[u] = r.json().get("ts") if r.status_code == 200 else None
    return outcome, latest


def large(s: LocalStack, pause: float = 2.0, timeout: float = 180.0) -> dict[str, Outcome]:
    """Snapshots of 5,000 contracts (by claim-check, as the edge sends them) and a 46 KB plain-JSON one after a gap.

    The plain snapshot's predecessor comes ``pause`` seconds after it.
    """
    from edge.collector.publish_queue import QueueSender, QueueTarget
    from edge.collector.spool import Entry

    p = Producer(s.storage_connection)
    # 4,998 contracts whose chain state compresses to ~69 KB: more than one 64 KiB table property
    big = docs("BIG", 4, seed=4, start="14:30", spot=300.0, strike_step=0.12, strike_range=0.4999, rate=0.0)
    sender = QueueSender(QueueTarget.from_connection_string(s.storage_connection))
    for n, d in enumerate(big):
        text = encode_compact(orjson.dumps(d))
        sender.send(Entry(n, f"BIG:{d['expiry']}:{d['ts']}", d["seq"], text))
        p.record(d, datetime.now(timezone.utc))
    plain = docs("PLN", 4, seed=11, strike_step=0.27, rate=0.0)  # ~46 KB of plain JSON each
    for d in (plain[0], plain[2], plain[1], plain[3]):  # seq 2 before seq 1: it must wait
        p.send(d, text=orjson.dumps(d).decode())
        time.sleep(pause if d is plain[2] else 0.0)
    return _settle(s, p, timeout)


def bomb(s: LocalStack, expand_mib: int = 1024, timeout: float = 120.0) -> tuple[list[str], int]:
    """Claim-checks a publisher never writes: a gzip bomb, another container, a strange name.

    Returns (the poison queue's messages for them, the host's peak resident memory growth in bytes).
    """
    from azure.storage.blob import BlobServiceClient

    blobs = BlobServiceClient.from_connection_string(s.storage_connection)
    for name in ("claim-checks", "private"):
        try:
            blobs.create_container(name)
        except Exception:  # noqa: BLE001 - exists
            pass
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk, body = b" " * (1 << 20), bytearray()
    for _ in range(expand_mib):
        body += packer.compress(chunk)
    body += packer.flush()
    name = f"edge/BOMB/{DAY.isoformat()}/{DAY.isoformat()}T15:00:00.000Z-0"
    blobs.get_blob_client("claim-checks", name).upload_blob(b"gz:" + base64.b64encode(bytes(body)), overwrite=True)
    blobs.get_blob_client("private", "secret.json").upload_blob(b'{"not": "yours"}', overwrite=True)
    refs = [{"schema": CLAIM_CHECK, "container": "claim-checks", "blob": name},
            {"schema": CLAIM_CHECK, "container": "private", "blob": "secret.json"},
            {"schema": CLAIM_CHECK, "container": "claim-checks", "blob": "../private/secret.json"}]
    pid = s.host_pid()
    before = _peak_rss(pid)
    q = queue(s.storage_connection)
    texts = [orjson.dumps(r).decode() for r in refs]
    for t in texts:
        q.send_message(t)
    poison = queue(s.storage_connection, "chain-snapshots-poison")
    deadline = time.monotonic() + timeout
    found: list[str] = []
    while time.monotonic() < deadline:
        found = [base64.b64decode(m.content).decode() for m in poison.peek_messages(max_messages=32)]
        if all(t in found for t in texts):
            break
        time.sleep(0.5)
    return [t for t in found if t in texts], _peak_rss(pid) - before


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


# -- the edge as processes ---------------------------------------------------------------------


@dataclass
class Collector:
    """``python -m edge.collector --source sim`` publishing to the stack, as a process that can be killed."""

    conn: str
    work: Path
    underlying: str
    market_start: datetime  # the market clock when first started
    interval: float = 0.5
    proc: subprocess.Popen | None = None
    started: float = 0.0

    def start(self) -> datetime:
        """Start (again); the market clock goes on from where the first start put it. Returns the wall time."""
        self.work.mkdir(parents=True, exist_ok=True)
        if not self.started:
            self.started = time.monotonic()
        now = self.market_start + timedelta(seconds=time.monotonic() - self.started)
        log = open(self.work / "collector.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edge.collector", "--source", "sim", "--underlying", self.underlying,
             "--scan-interval", str(self.interval), "--seed", "5", "--queue", self.conn,
             "--spool", str(self.work / "spool.db"), "--record", str(self.work / "rec"), "--ops-port", "-1",
             "--clock-start", now.astimezone(NEW_YORK).isoformat()],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return datetime.now(timezone.utc)

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)

    def recorded(self) -> list[dict]:
        """Every snapshot the collector built, from its crash-safe recordings, in order."""
        from edge.collector.recorder import read_snapshot_lines

        return [orjson.loads(line) for path in sorted((self.work / "rec").glob("*.jsonl.gz"))
                for line in read_snapshot_lines(path)]

    def wait_recorded(self, n: int, timeout: float) -> None:
        """Until the recordings hold ``n`` snapshots (a loaded machine starts a collector slowly)."""
        deadline = time.monotonic() + timeout
        while len(self.recorded()) < n and time.monotonic() < deadline:
            time.sleep(0.25)

    def spooled(self) -> set[str]:
        """Keys of the snapshots still waiting in the spool (not sent)."""
        import sqlite3

        with sqlite3.connect(self.work / "spool.db") as db:
            return {k for (k,) in db.execute("SELECT key FROM spool")}


def collector_restart(s: LocalStack, per_run: int = 24, timeout: float = 120.0,
                      name: str = "COLL") -> tuple[dict[str, Outcome], int, set[str | None]]:
    """A collector kill -9 mid-stream and a restart; returns (outcome, snapshots never spooled, sessions).

    Each run lasts until it has built ``per_run`` snapshots. The snapshots sent are those the
    collector recorded, minus those still in its spool at the end; the one it was building when
    killed may be recorded but never spooled (counted apart).
    """
    work = Path(tempfile.mkdtemp(prefix="collector-"))
    c = Collector(s.storage_connection, work, name, datetime(2026, 11, 24, 18, 30, tzinfo=timezone.utc))
    wall0 = c.start()
    c.wait_recorded(per_run, timeout)
    c.kill()
    first = c.recorded()
    time.sleep(1.0)
    restarted = c.start()
    c.wait_recorded(len(first) + per_run, timeout)
    c.stop()
    waiting = c.spooled()
    p = Producer(s.storage_connection)
    recorded = c.recorded()
    lag = _clock_lags(recorded)
    for d in recorded:
        if f"{d['underlying']}:{d['expiry']}:{d['ts']}" not in waiting:
            built = parse_iso(d["ts"]) + lag.get(d.get("session"), wall0 - c.market_start)
            p.record(d, built)
    runs = sorted({d.get("session") for d in recorded}, key=str)
    if len(runs) == 2 and runs[1] is not None:  # the restarted run is up when its session begins
        restarted = _session_start(runs[1])
    outcome = _settle(s, p, timeout, recovered=restarted)
    unspooled = 0
    if first and outcome[name].lost and outcome[name].lost[-1].ts == iso_ms(parse_iso(first[-1]["ts"])):
        unspooled = 1  # built as the kill came: recorded, never spooled, so never sent
        outcome[name].lost.pop()
        outcome[name].sent -= 1
    return outcome, unspooled, {d.get("session") for d in recorded}


def _session_start(session: str) -> datetime:
    return datetime.strptime(session.split("-")[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=timezone.utc)


def _clock_lags(recorded: list[dict]) -> dict[str | None, timedelta]:
    """Per collector run, real time minus its market clock: the session names the real start, seq 0 its clock."""
    return {d["session"]: _session_start(d["session"]) - parse_iso(d["ts"])
            for d in recorded if d.get("session") and d.get("seq") == 0}


def azurite_outage(s: LocalStack, outage_s: float = 30.0, before_s: float = 6.0, after_s: float = 6.0,
                   spacing: float = 0.25, timeout: float = 180.0, name: str = "AZK") -> dict[str, Outcome]:
    """The edge publisher streams live while Azurite is killed (-9) for ``outage_s`` and restarted."""
    from edge.collector.publisher import Publisher
    from edge.collector.publish_queue import QueueTarget
    from edge.collector.spool import Spool
    from spyglass.contract import Snapshot

    n = int((before_s + outage_s + after_s) / spacing)
    batch = docs(name, n, seed=12, start="14:00", interval=spacing)
    p = Producer(s.storage_connection)
    spool = Spool(Path(tempfile.mkdtemp(prefix="azk-")) / "spool.db")
    publisher = Publisher(spool, QueueTarget.from_connection_string(s.storage_connection), backoff_max=1.0)
    publisher.start()
    recovered: list[datetime] = []

    def outage() -> None:
        time.sleep(before_s)
        s.azurite.kill()
        time.sleep(outage_s)
        s.azurite.restart()
        recovered.append(datetime.now(timezone.utc))

    breaker = threading.Thread(target=outage, daemon=True)
    breaker.start()
    paced(batch, spacing, lambda d: (publisher.submit(Snapshot.from_dict(d)), p.record(d, datetime.now(timezone.utc))))
    breaker.join()
    deadline = time.monotonic() + timeout
    while publisher.depth and time.monotonic() < deadline:
        time.sleep(0.2)
    publisher.stop()
    return _settle(s, p, timeout, recovered=recovered[0])


__all__ = ["CLOCK_START", "DAY", "Collector", "Producer", "azurite_outage", "bomb", "burst", "clock",
           "collector_restart", "docs", "host_kill", "large", "load", "shuffled", "stack"]
