"""The HTTP API while an ingest backlog drains, on the local stack, against the same calls idle.

~4,000 snapshots from 6 underlyings are enqueued at once (as after an edge outage) and drained by
the stack's ingest host; meanwhile one client calls ``GET /api/health`` and ``GET /api/anomalies``
in turn, a call every 100 ms, over one keep-alive connection, as the dashboard's poll does. The
peer is the same calls on the same stack before the backlog arrives. Target (issue 14): p99 <= 300 ms
during the drain. A second peer reads storage directly (the health probe's point read, from this
process): what the emulator itself answers meanwhile, for Azurite is one Node process that the
drain also loads. ``python bench/bench_backlog.py [per-chain]`` (default 667: 4,002 snapshots).
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from azure.data.tables import TableClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_pipeline import CHAINS, after, client, messages  # noqa: E402

from devstack.stack import LocalStack  # noqa: E402

CALLS = ("health", "anomalies", "storage")  # storage: the point read straight from Azurite (peer)
PERIOD = 0.1  # seconds between calls: the dashboard polls far less often; enough samples for a p99
IDLE_CALLS = 300
MAX_DRAIN = 600.0  # stop sampling after this, drained or not


def call(http: httpx.Client, api: str, table: TableClient, name: str) -> float:
    """One call's wall time in ms; a failed call counts (as the time it took) and is reported."""
    t0 = time.perf_counter()
    if name == "storage":
        list(table.query_entities("PartitionKey eq @pk and RowKey eq @rk", parameters={"pk": "health", "rk": "probe"}))
        return (time.perf_counter() - t0) * 1e3
    params = {"underlying": "SPY", "limit": "50"} if name == "anomalies" else None
    r = http.get(f"{api}/{name}", params=params)
    elapsed = (time.perf_counter() - t0) * 1e3
    if r.status_code != 200:
        print(f"  {name}: HTTP {r.status_code} {r.text[:120]}", flush=True)
    return elapsed


def sample(http: httpx.Client, api: str, table: TableClient, until: threading.Event,
           limit: int | None = None) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {n: [] for n in CALLS}
    n = 0
    while not until.is_set() and (limit is None or n < limit):
        name = CALLS[n % len(CALLS)]
        out[name].append(call(http, api, table, name))
        n += 1
        time.sleep(PERIOD)
    return out


def drained(stack: LocalStack, bodies: dict[str, list[str]], http: httpx.Client) -> bool:
    for u, b in bodies.items():
        r = http.get(f"{stack.api}/chain/latest", params={"underlying": u})
        if r.status_code != 200 or r.json()["seq"] != len(b) - 1:
            return False
    return True


def stats(ms: list[float]) -> tuple[float, float, float]:
    a = np.array(ms)
    return float(np.percentile(a, 50)), float(np.percentile(a, 99)), float(a.max())


def main() -> None:
    per_chain = int(sys.argv[1]) if len(sys.argv) > 1 else 667
    print(f"simulating {per_chain} snapshots x {len(CHAINS)} underlyings ...", flush=True)
    bodies = {u: messages(u, per_chain) for u in CHAINS}
    total = sum(len(v) for v in bodies.values())
    print("starting the local stack (Azurite, SignalR service, Functions host) ...", flush=True)
    with LocalStack(clock_start=after([b for v in bodies.values() for b in v])) as stack:
        http = httpx.Client(timeout=60, headers={"x-functions-key": stack.function_key})
        probe = httpx.Client(timeout=60, headers={"x-functions-key": stack.function_key})
        table = TableClient.from_connection_string(stack.storage_connection, "chainstate")
        for name in CALLS:  # warm: first imports and connections
            call(http, stack.api, table, name)
        idle = sample(http, stack.api, table, threading.Event(), IDLE_CALLS)

        q = client(stack.storage_connection, "chain-snapshots")
        order = [b for chain in zip(*bodies.values()) for b in chain]
        done = threading.Event()
        t0 = time.perf_counter()
        with ThreadPoolExecutor(1) as sampling, ThreadPoolExecutor(4) as senders:
            sampler = sampling.submit(sample, http, stack.api, table, done)  # from the first message on
            list(senders.map(q.send_message, order))
            enqueued = time.perf_counter() - t0
            while time.perf_counter() - t0 < MAX_DRAIN and not drained(stack, bodies, probe):
                time.sleep(1.0)
            drain = time.perf_counter() - t0
            done.set()
            busy = sampler.result()

    print(f"\nAPI latency while {total} snapshots from {len(CHAINS)} underlyings drain "
          f"(enqueued in {enqueued:.0f} s, drained in {drain:.0f} s{'' if drain < MAX_DRAIN else ', NOT drained'}), "
          f"a call every {PERIOD * 1e3:.0f} ms")
    print(f"  {'call':<40} {'samples':>7} {'p50':>9} {'p99':>9} {'max':>10}")
    for name in CALLS:
        what = "storage point read, direct" if name == "storage" else f"GET /api/{name}"
        for label, data in (("idle (peer)", idle[name]), ("drain", busy[name])):
            p50, p99, worst = stats(data)
            print(f"  {what + ', ' + label:<40} {len(data):>7} {p50:7.1f} ms {p99:7.1f} ms {worst:8.1f} ms")
    for name in CALLS:
        (i50, i99, _), (b50, b99, _) = stats(idle[name]), stats(busy[name])
        print(f"  {name:<10} drain/idle ratio: p50 {b50 / i50:5.1f}x   p99 {b99 / i99:5.1f}x")
    worst99 = max(stats(busy[name])[1] for name in ("health", "anomalies"))
    print(f"  target p99 <= 300 ms during the drain: {'met' if worst99 <= 300 else 'MISSED'} ({worst99:.0f} ms; "
          f"the direct storage read's p99 meanwhile: {stats(busy['storage'])[1]:.0f} ms)")


if __name__ == "__main__":
    main()
