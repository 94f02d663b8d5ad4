"""The edge spool's drain against raw Azurite enqueue, measured in the same run on a fresh Azurite.

- Peer: a bare ``QueueClient.send_message`` loop of the same message texts, from this
  machine, in rounds interleaved with ours (the machine is shared; each phase sees the same load).
- Ours: the Publisher draining a spool pre-filled with the same snapshots (an edge
  catching up after an outage): SQLite reads, sends, acks (deletes), until the spool is
  empty. Target (issue #4): >= 0.8x raw. Also shown: the drain with one send in flight
  (no concurrency, like the peer) and the durable submit rate (fsync per snapshot).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from azure.storage.queue import QueueClient, TextBase64EncodePolicy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devstack.azurite import Azurite
from edge.collector.publish_queue import QueueTarget
from edge.collector.publisher import Publisher
from edge.collector.spool import Spool
from spyglass.contract import Snapshot
from spyglass.jsonl import dumps_snapshot
from spyglass.sim import SimConfig, simulate_day
from spyglass.wire.queue import encode_compact

N = 1000


def snapshots(n: int) -> list[Snapshot]:
    out = []
    for d in simulate_day(SimConfig(underlying="SPY", seed=3, start="10:00", spot=500.0)):
        out.append(Snapshot.from_json(dumps_snapshot(d)))
        if len(out) >= n:
            return out
    return out


ROUNDS = 5


def raw_enqueue(conn: str, bodies: list[str]) -> float:
    """Seconds for a bare send_message loop of ``bodies`` into a fresh queue."""
    q = QueueClient.from_connection_string(conn, "bench-raw", message_encode_policy=TextBase64EncodePolicy())
    q.create_queue()
    t0 = time.perf_counter()
    for b in bodies:
        q.send_message(b)
    took = time.perf_counter() - t0
    q.delete_queue()  # leftover messages slow Azurite down: every phase starts from an empty queue
    return took


def drain(conn: str, snaps: list[Snapshot], spool: Path, in_flight: int) -> tuple[float, float]:
    """(seconds to submit durably, seconds to drain) for a spool pre-filled with ``snaps``."""
    queue = f"bench-drain-{in_flight}"
    QueueClient.from_connection_string(conn, queue).create_queue()
    pub = Publisher(Spool(spool), QueueTarget.from_connection_string(conn, queue), max_in_flight=in_flight)
    t0 = time.perf_counter()
    for s in snaps:
        pub.submit(s)
    submitted = time.perf_counter() - t0
    t0 = time.perf_counter()
    pub.start()
    while pub.depth:
        time.sleep(0.002)
    took = time.perf_counter() - t0
    pub.stop()
    q = QueueClient.from_connection_string(conn, queue)
    sent = q.get_queue_properties().approximate_message_count
    if sent < len(snaps):
        raise SystemExit(f"drain lost messages: {sent} of {len(snaps)} in the queue")
    q.delete_queue()
    return submitted, took


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N
    print(f"simulating {n} SPY 0DTE snapshots and starting a fresh Azurite ...", flush=True)
    snaps = snapshots(n)
    bodies = [encode_compact(s.to_json()) for s in snaps]
    avg = sum(len(b) for b in bodies) / len(bodies)
    # the machine is shared: run the three phases in interleaved rounds (order rotated) so that all of
    # them see the same background load, and compare totals
    seconds = {"raw": 0.0, "drain4": 0.0, "drain1": 0.0}
    submit_s = 0.0
    with Azurite(in_memory=True) as az, tempfile.TemporaryDirectory(prefix="bench-spool-") as tmp:
        conn = az.connection_string
        for r in range(ROUNDS):
            part = slice(r * n // ROUNDS, (r + 1) * n // ROUNDS)
            phases = ["raw", "drain4", "drain1"]
            for phase in phases[r % 3:] + phases[:r % 3]:
                if phase == "raw":
                    seconds[phase] += raw_enqueue(conn, bodies[part])
                else:
                    sub, took = drain(conn, snaps[part], Path(tmp) / f"{phase}.db", int(phase[-1]))
                    seconds[phase] += took
                    submit_s += sub
    raw, ours, ours_seq = (n / seconds[k] for k in ("raw", "drain4", "drain1"))
    ratio = ours / raw
    print(f"\nSpool drain to Azurite, {n} snapshots (242 contracts, compact messages of {avg / 1024:.1f} KiB), "
          f"{ROUNDS} interleaved rounds")
    print(f"  spyglass spool drain (4 in flight)   {ours:7.1f} messages/s")
    print(f"  peer: raw Azurite send_message loop  {raw:7.1f} messages/s")
    print(f"  ratio {ratio:5.2f}x   (target >= 0.8x: {'met' if ratio >= 0.8 else 'MISSED'})")
    print(f"  spool drain, 1 in flight (the peer's concurrency)  {ours_seq:7.1f} messages/s   ratio {ours_seq / raw:5.2f}x")
    print(f"  durable submits (SQLite WAL, synchronous=FULL)     {2 * n / submit_s:7.1f} snapshots/s")


if __name__ == "__main__":
    main()
