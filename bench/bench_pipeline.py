"""The Functions pipeline on the local stack, each figure beside a peer measured in the same run.

- Throughput: snapshots/s from the queue to the tables (decode, order, score, store, publish),
  several chains at once, against raw Azurite receive+delete of the same number of messages.
  Target (issue #3): >= 0.5x raw.
- Latency: enqueue to receipt by a SignalR client, p50/p99, with the host polling every 100 ms
  (host.json maxPollingInterval). Target: p99 <= 300 ms.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devstack.listen import subscribe  # noqa: E402
from devstack.stack import LocalStack  # noqa: E402
from spyglass.contract import iso_ms  # noqa: E402
from spyglass.jsonl import dumps_snapshot  # noqa: E402
from spyglass.sim import SimConfig, simulate_day  # noqa: E402
from spyglass.wire.queue import decode, encode_compact  # noqa: E402

CHAINS = ("SPY", "QQQ", "IWM", "DIA", "XLF", "GLD")
PER_CHAIN = 80
LATENCY_SAMPLES = 120


def messages(underlying: str, n: int, start: str = "10:00") -> list[str]:
    out = []
    for d in simulate_day(SimConfig(underlying=underlying, seed=1, start=start, spot=500.0)):
        out.append(encode_compact(dumps_snapshot(d)))
        if len(out) >= n:
            return out
    return out


def after(bodies: list[str]) -> str:
    """An app clock a minute after the newest snapshot: the simulated day may be later than now."""
    newest = max(decode(b).ts for b in bodies)
    return iso_ms(newest + timedelta(minutes=1))


def client(conn: str, name: str) -> QueueClient:
    q = QueueClient.from_connection_string(conn, name, message_encode_policy=TextBase64EncodePolicy())
    try:
        q.create_queue()
    except Exception:  # noqa: BLE001 - exists
        pass
    return q


def raw_receive_delete(conn: str, bodies: list[str]) -> float:
    q = client(conn, "bench-raw")
    for b in bodies:
        q.send_message(b)
    t0, done = time.perf_counter(), 0
    while done < len(bodies):
        for m in q.receive_messages(max_messages=32):
            q.delete_message(m)
            done += 1
    return len(bodies) / (time.perf_counter() - t0)


def pipeline(stack: LocalStack, bodies: dict[str, list[str]]) -> float:
    q = client(stack.storage_connection, "chain-snapshots")
    total = sum(len(v) for v in bodies.values())
    http = httpx.Client(timeout=10, headers={"x-functions-key": stack.function_key})
    # enqueue everything first, then measure the drain, as after an edge outage
    for chain in zip(*bodies.values()):
        for b in chain:
            q.send_message(b)
    t0 = time.perf_counter()
    remaining = set(bodies)
    while remaining:
        for u in list(remaining):
            r = http.get(f"{stack.api}/chain/latest", params={"underlying": u})
            if r.status_code == 200 and r.json()["seq"] == len(bodies[u]) - 1:
                remaining.discard(u)
        time.sleep(0.25)  # light polling: the measurement must not load the system it measures
    return total / (time.perf_counter() - t0)


async def latency(stack: LocalStack, bodies: list[str]) -> np.ndarray:
    q = client(stack.storage_connection, "chain-snapshots")
    sent: dict[int, float] = {}
    got: dict[int, float] = {}

    async def listen() -> None:
        async for target, args in subscribe(stack.api, stack.function_key):
            if target == "chain" and args[0]["underlying"] == "TLT":
                got.setdefault(args[0]["seq"], time.perf_counter())
                if len(got) >= len(bodies):
                    return

    task = asyncio.create_task(listen())
    await asyncio.sleep(1.0)
    for n, b in enumerate(bodies):
        sent[n] = time.perf_counter()
        await asyncio.to_thread(q.send_message, b)
        await asyncio.sleep(0.25)
    await asyncio.wait_for(task, 60)
    return np.array([got[n] - sent[n] for n in sent if n in got]) * 1e3


def main() -> None:
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    print(f"starting the local stack (Azurite, SignalR service, {workers} Functions host workers) ...", flush=True)
    bodies = {u: messages(u, PER_CHAIN) for u in CHAINS}
    later = messages("TLT", LATENCY_SAMPLES, "11:00")
    total = sum(len(v) for v in bodies.values())
    with LocalStack(workers=workers, clock_start=after(later)) as stack:
        raw = raw_receive_delete(stack.storage_connection, [b for v in bodies.values() for b in v])
        ours = pipeline(stack, bodies)
        lat = asyncio.run(latency(stack, later))
    print(f"\nPipeline throughput, {total} snapshots over {len(CHAINS)} chains (242 contracts each), "
          f"{workers} host workers")
    print(f"  spyglass queue -> tables      {ours:7.1f} snapshots/s")
    print(f"  peer: raw Azurite receive+delete  {raw:7.1f} messages/s")
    print(f"  ratio {ours / raw:5.2f}x   (target >= 0.5x: {'met' if ours / raw >= 0.5 else 'MISSED'})")
    print(f"\nEnqueue -> SignalR client, {len(lat)} snapshots, host polls every 100 ms when idle")
    p50, p99 = np.percentile(lat, 50), np.percentile(lat, 99)
    print(f"  p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   max {lat.max():6.1f} ms   "
          f"(target p99 <= 300 ms: {'met' if p99 <= 300 else 'MISSED'})")


if __name__ == "__main__":
    main()
