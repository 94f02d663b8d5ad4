"""`make demo`: the whole main job locally, on real components, until Ctrl-C.

Starts Azurite, the local SignalR service, the local Functions host and the
dashboard, then the edge as in production: a fake IB Gateway streams a
simulated 0DTE market with injected anomalies, and ``python -m edge.collector
--source ibkr`` (the real ib_async client) spools its snapshots and publishes
them to ``chain-snapshots``. ``--feed direct`` instead enqueues simulated
snapshots straight away (any ``--speed``). It prints what arrives over
SignalR. Everything stops by PID on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import threading
import time
from datetime import date

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devstack.edge import LocalEdge
from devstack.listen import subscribe
from devstack.proc import REPO
from devstack.stack import LocalStack
from spyglass.clock import parse_new_york
from spyglass.contract import iso_ms
from spyglass.jsonl import dumps_snapshot
from spyglass.sim import InjectionConfig, SimConfig, simulate_day
from spyglass.wire.queue import SNAPSHOT_QUEUE, encode_compact


def feed(conn: str, cfg: SimConfig, speed: float, stop: threading.Event) -> None:
    """Send the simulated day at ``speed`` x real time (1 = one snapshot per simulated interval)."""
    queue = QueueClient.from_connection_string(conn, SNAPSHOT_QUEUE, message_encode_policy=TextBase64EncodePolicy())
    try:
        queue.create_queue()
    except ResourceExistsError:
        pass
    start = time.monotonic()
    for n, snapshot in enumerate(simulate_day(cfg)):
        if stop.is_set():
            return
        delay = start + n * cfg.interval_s / speed - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        queue.send_message(encode_compact(dumps_snapshot(snapshot)))


async def watch(stack: LocalStack, stop: threading.Event) -> None:
    async for target, args in subscribe(stack.api, stack.function_key):
        if stop.is_set():
            return
        if target == "anomaly":
            a = args[0]
            print(f"  signalr  {a['ts'][11:19]} {a['type']:<14} {a['severity']:<6} {a['evidence']['summary'][:110]}",
                  flush=True)
        elif target == "chain" and (args[0].get("seq") or 0) % 30 == 0:  # seq is optional in the contract
            c = args[0]
            print(f"  chain    {c['ts'][11:19]} spot {c['spot']:.2f} ATM IV {100 * (c['atm_iv'] or 0):.1f} "
                  f"expected move {c['expected_move']} quality {c['data_quality']['grade']}", flush=True)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--feed", choices=("edge", "direct"), default="edge",
                   help="edge: fake IB Gateway -> collector -> spool -> queue (real time); direct: enqueue")
    p.add_argument("--speed", type=float, default=1.0, help="x real time (--feed direct)")
    p.add_argument("--rate-per-hour", type=float, default=30.0, help="injected anomalies per hour per type")
    p.add_argument("--date", default="2026-11-24")
    args = p.parse_args()
    stop = threading.Event()
    # The app's clock runs on the simulated day: the edge's clock for the live feed, the day's close for the
    # direct feed (any speed: its snapshots are then never ahead of "now").
    start = parse_new_york(f"{args.date}T10:00" if args.feed == "edge" else f"{args.date}T16:00")
    stack = LocalStack(log_dir=REPO / "out" / "demo-stack", web=True, clock_start=iso_ms(start))
    edge: LocalEdge | None = None
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.start()
        print(f"""
Spyglass local stack is up (logs in out/demo-stack/):
  dashboard      {stack.web_url}   (static-web/ as the Static Web App serves it; /api/* proxied with the key)
  API            {stack.api}   (function key: {stack.function_key})
  try            curl -H 'x-functions-key: {stack.function_key}' '{stack.api}/anomalies?limit=5'
  OpenAPI        {stack.api}/openapi.json
  health         {stack.api}/health
  SignalR        {stack.signalr_connection.split(';')[0].split('=', 1)[1]}  (hub spyglass: anomaly, chain, signal, outcome)
  storage        Azurite {stack.azurite.endpoint('queue')}
Ctrl-C stops everything.""", flush=True)
        if args.feed == "edge":
            edge = LocalEdge(stack.storage_connection, REPO / "out" / "demo-stack" / "edge", f"{args.date}T10:00",
                             seed=args.seed, rate_per_hour=args.rate_per_hour).start()
            print(f"""Edge (logs and recordings in out/demo-stack/edge/):
  fake IB Gateway 127.0.0.1:{edge.gateway_port}, simulated SPY 0DTE session from 10:00 New York
  collector      python -m edge.collector --source ibkr (ib_async) -> SQLite spool -> {SNAPSHOT_QUEUE}
  ops            {edge.ops}/readyz   {edge.ops}/metrics
""", flush=True)
        else:
            print(f"Feeding a simulated SPY 0DTE session into {SNAPSHOT_QUEUE} at {args.speed}x real time.\n",
                  flush=True)
            cfg = SimConfig(trading_date=date.fromisoformat(args.date), seed=args.seed, start="10:00",
                            injection=InjectionConfig(rates={t: args.rate_per_hour for t in InjectionConfig().rates},
                                                      warmup_s=15.0))  # something to see within seconds
            threading.Thread(target=feed, args=(stack.storage_connection, cfg, args.speed, stop), daemon=True).start()
        asyncio.run(watch(stack, stop))
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        print("\nstopping the local stack ...", flush=True)
        if edge is not None:
            edge.stop()
        stack.stop()


if __name__ == "__main__":
    main()
