"""Enqueue to rendered in the dashboard: real Chromium, real @microsoft/signalr, the whole local stack.

N simulated SPY snapshots go into the queue at a steady rate; the bench logs each one's enqueue
wall time by ``seq``. The page records ``performance.timeOrigin + performance.now()`` in the
animation frame after it drew each chain message (``window.spyglass.renders``), so
rendered - enqueued is the latency a trader sees. Both clocks are this machine's wall clock.
Peer in the same run: a bare Python SignalR subscriber (``devstack.listen.subscribe``) on the
same messages, i.e. the same path without a browser, a proxy-negotiated client or drawing.
Target (issue #5): p99 <= 500 ms.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devstack.listen import subscribe
from devstack.stack import LocalStack
from spyglass.contract import iso_ms
from spyglass.jsonl import dumps_snapshot
from spyglass.sim import SimConfig, simulate_day
from spyglass.wire.queue import decode, encode_compact
from tests.browser.kit import launch, queue, wait

SAMPLES = 150
RATE = 4.0  # snapshots per second (the edge sends about one a second per chain)
WARMUP = 5  # first messages: the browser's first draws and JIT, the host's first scoring


def bodies(n: int) -> list[str]:
    out = []
    for snap in simulate_day(SimConfig(underlying="SPY", seed=1, start="11:00")):
        out.append(encode_compact(dumps_snapshot(snap)))
        if len(out) >= n:
            break
    return out


def peer(stack: LocalStack, got: dict[int, float], ready: threading.Event, stop: threading.Event) -> None:
    async def run() -> None:
        stream = subscribe(stack.api, stack.function_key)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.5)
        ready.set()
        target, args = await first
        while not stop.is_set():
            if target == "chain" and args[0]["underlying"] == "SPY":
                got.setdefault(args[0]["seq"], time.time() * 1e3)
            try:
                target, args = await asyncio.wait_for(anext(stream), 1.0)
            except TimeoutError:
                continue
        await stream.aclose()

    asyncio.run(run())


def summary(name: str, ms: np.ndarray) -> tuple[float, float]:
    p50, p99 = np.percentile(ms, 50), np.percentile(ms, 99)
    print(f"  {name:<44} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   max {ms.max():6.1f} ms   n={len(ms)}")
    return p50, p99


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else SAMPLES
    print("starting the local stack with the dashboard (Azurite, SignalR service, Functions host, local SWA) ...",
          flush=True)
    msgs = bodies(n)
    sent: dict[int, float] = {}
    got: dict[int, float] = {}
    clock = iso_ms(max(decode(m).ts for m in msgs) + timedelta(minutes=1))  # the simulated day may be ahead of now
    with LocalStack(web=True, clock_start=clock) as stack, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(stack.web_url)
        wait(page, "() => document.querySelector('#conn').dataset.state === 'live'")
        ready, stop = threading.Event(), threading.Event()
        listener = threading.Thread(target=peer, args=(stack, got, ready, stop), daemon=True)
        listener.start()
        ready.wait(10)
        q = queue(stack)
        start = time.monotonic()
        for seq, body in enumerate(msgs):
            delay = start + seq / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent[seq] = time.time() * 1e3
            q.send_message(body)
        wait(page, "(last) => window.spyglass.renders.some((r) => r.seq === last)", n - 1, timeout=60)
        page.wait_for_timeout(500)  # stragglers
        renders = page.evaluate("() => window.spyglass.renders")
        stop.set()
        listener.join(5)
        browser.close()
    rendered = {r["seq"]: r["rendered"] for r in renders}
    keep = [s for s in sent if s >= WARMUP and s in rendered and s in got]
    browser_ms = np.array([rendered[s] - sent[s] for s in keep])
    peer_ms = np.array([got[s] - sent[s] for s in keep])
    print(f"\nEnqueue -> rendered in the dashboard, {len(keep)} SPY snapshots at {RATE:g}/s "
          f"({WARMUP} warm-up dropped; {n - len(rendered)} not rendered, {n - len(got)} not received by the peer)")
    b50, b99 = summary("spyglass dashboard (Chromium, drawn)", browser_ms)
    p50, p99 = summary("peer: bare Python SignalR subscriber (received)", peer_ms)
    print(f"  ratio dashboard/peer  p50 {b50 / p50:4.2f}x   p99 {b99 / p99:4.2f}x   "
          f"(drawing and the browser add {np.median(browser_ms - peer_ms):.1f} ms at the median)")
    print(f"  target p99 <= 500 ms: {'met' if b99 <= 500 else 'MISSED'}")


if __name__ == "__main__":
    main()
