"""`make demo`: the whole main job locally, on real components, today, until Ctrl-C.

Starts Azurite, the local SignalR service, the local Functions host and the dashboard on the
real clock (no clock offset), then streams today's session of SPY, QQQ and IWM at once:

- SPY through the edge as in production: a fake IB Gateway streams a simulated 0DTE market with
  injected anomalies, and ``python -m edge.collector --source ibkr --simulated`` (the real
  ib_async client, on real time) spools its snapshots and publishes them to ``chain-snapshots``
  (``--feed direct``: SPY is enqueued straight from the simulator like the others);
- QQQ and IWM straight from the simulator into ``chain-snapshots``, one snapshot a second.

Snapshots are stamped now and expire today (New York). While the exchange is open with an hour
to go the session is the real one; otherwise a simulated session around now (``spyglass.sim.live``)
whose close every snapshot carries in ``expiry_close``. Every snapshot's ``source`` says it is
simulated (``sim``, ``ibkr-sim``; ``spyglass.wire.summary.is_simulated``). It prints what arrives
over SignalR. Everything stops by PID on Ctrl-C (or SIGTERM, or after ``--run-seconds``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devstack.edge import LocalEdge
from devstack.listen import subscribe
from devstack.proc import REPO
from devstack.stack import LocalStack
from spyglass.clock import NEW_YORK
from spyglass.contract import iso_ms
from spyglass.jsonl import dumps_snapshot
from spyglass.sim import simulate_day
from spyglass.sim.config import SessionHours, SimConfig
from spyglass.sim.live import live_hours
from spyglass.sim.underlyings import DEMO_UNDERLYINGS, live_config
from spyglass.wire.queue import POISON_QUEUE, SNAPSHOT_QUEUE, encode_compact

EDGE_SOURCE = "ibkr-sim"
DIRECT_SOURCE = "sim"


@dataclass(frozen=True)
class Feed:
    underlying: str
    path: str  # "edge" or "direct"
    source: str  # the snapshots' source field


def plan_feeds(spy_feed: str) -> list[Feed]:
    """SPY through the edge (or direct), QQQ and IWM direct."""
    return [Feed(u.symbol, spy_feed if u.symbol == "SPY" else "direct",
                 EDGE_SOURCE if u.symbol == "SPY" and spy_feed == "edge" else DIRECT_SOURCE)
            for u in DEMO_UNDERLYINGS]


def feed(conn: str, cfg: SimConfig, stop: threading.Event) -> None:
    """Send the simulated session as it happens: each snapshot when the wall clock reaches its ``ts``."""
    queue = QueueClient.from_connection_string(conn, SNAPSHOT_QUEUE, message_encode_policy=TextBase64EncodePolicy())
    try:
        queue.create_queue()
    except ResourceExistsError:
        pass
    day = simulate_day(cfg)
    start = day.session.start
    for snapshot in day:
        if stop.is_set():
            return
        due = start + (day.session.interval * snapshot["seq"])
        delay = (due - datetime.now(timezone.utc)).total_seconds()
        if delay > 0 and stop.wait(delay):
            return
        queue.send_message(encode_compact(dumps_snapshot(snapshot)))


def try_urls(api: str, underlyings: list[str]) -> list[str]:
    """The API calls the banner offers; each answers with data while the demo streams."""
    first, *others = underlyings
    return [
        f"{api}/anomalies?limit=5",
        f"{api}/chains",
        *(f"{api}/chain/latest?underlying={u}" for u in underlyings),
        f"{api}/chain?underlying={others[0] if others else first}",
        f"{api}/chain/history?underlying={first}&points=20",
        f"{api}/signals?underlying={first}",
    ]


def curl(url: str, key: str) -> str:
    return f"curl -H 'x-functions-key: {key}' {shlex.quote(url)}"


def describe_session(hours: SessionHours) -> str:
    o, c = hours.open.astimezone(NEW_YORK), hours.close.astimezone(NEW_YORK)
    kind = "a simulated session" if hours.simulated else "the exchange's session"
    return f"today {o:%Y-%m-%d}, {kind} {o:%H:%M}-{c:%H:%M} New York (closes {iso_ms(hours.close)})"


def banner(stack: LocalStack, hours: SessionHours, feeds: list[Feed], edge: LocalEdge | None, log_dir: Path) -> str:
    shown = os.path.relpath(log_dir, Path.cwd()) if log_dir.is_relative_to(Path.cwd()) else str(log_dir)
    key, api = stack.function_key, stack.api
    lines = [
        "",
        f"Spyglass local stack is up (logs in {shown}/):",
        f"  dashboard      {stack.web_url}   (static-web/ as the Static Web App serves it; /api/* proxied with the key)",
        f"  API            {api}   (function key: {key})",
        f"  OpenAPI        {api}/openapi.json",
        f"  health         {api}/health",
        f"  SignalR        {stack.signalr_connection.split(';')[0].split('=', 1)[1]}  "
        "(hub spyglass: anomaly, chain, signal, outcome)",
        f"  storage        Azurite {stack.azurite.endpoint('queue')}",
        f"  ingest log     {shown}/host.log (one INFO line per invocation: the snapshot key, applied or parked)",
        f"  API log        {shown}/api.log (the HTTP API runs in its own host, as in Azure: docs/operations.md)",
        "",
        f"Session: {describe_session(hours)}; snapshots stamped now, data marked simulated (source sim / ibkr-sim).",
        "Feeds (one snapshot a second each):",
    ]
    for f in feeds:
        if f.path == "edge" and edge is not None:
            lines.append(f"  {f.underlying:<5} edge    fake IB Gateway 127.0.0.1:{edge.gateway_port} -> "
                         "python -m edge.collector --source ibkr --simulated (ib_async) -> SQLite spool -> "
                         f"{SNAPSHOT_QUEUE}   source {f.source}")
            lines.append(f"                collector ops {edge.ops}/readyz  {edge.ops}/metrics; "
                         f"logs and recordings in {shown}/edge/")
        else:
            lines.append(f"  {f.underlying:<5} direct  simulator -> {SNAPSHOT_QUEUE}   source {f.source}")
    lines += ["", "Try (each answers with data while the demo streams):"]
    lines += [f"  {curl(u, key)}" for u in try_urls(api, [f.underlying for f in feeds])]
    conn = shlex.quote(f"AzureWebJobsStorage={stack.storage_connection}")
    lines += [
        "",
        f"Poison queue ({POISON_QUEUE}): the storage connection string, then the command:",
        f"  export {conn}",
        "  .venv/bin/spyglass poison list        (or: .venv/bin/python -m functions.poison list)",
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


async def watch(stack: LocalStack, stop: threading.Event) -> None:
    async for target, args in subscribe(stack.api, stack.function_key):
        if stop.is_set():
            return
        if target == "anomaly":
            a = args[0]
            print(f"  signalr  {a['ts'][11:19]} {a['underlying']:<4} {a['type']:<14} {a['severity']:<6} "
                  f"{a['evidence']['summary'][:100]}", flush=True)
        elif target == "chain" and (args[0].get("seq") or 0) % 30 == 0:  # seq is optional in the contract
            c = args[0]
            atm = "—" if c.get("atm_iv") is None else f"{100 * c['atm_iv']:.1f}"  # no fit yet: no number, not 0
            dq = c["data_quality"]
            why = f" ({dq['notes'][0]})" if dq["grade"] != "good" and dq.get("notes") else ""
            print(f"  chain    {c['ts'][11:19]} {c['underlying']:<4} spot {c['spot']:.2f} "
                  f"ATM IV {atm} expected move {c['expected_move'] if c['expected_move'] is not None else '—'} "
                  f"quality {dq['grade']}{why} source {c.get('source')}", flush=True)


async def watch_until(stack: LocalStack, stop: threading.Event, seconds: float) -> None:
    task = asyncio.create_task(watch(stack, stop))
    if seconds > 0:
        done, _ = await asyncio.wait([task], timeout=seconds)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    else:
        await task


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--feed", choices=("edge", "direct"), default="edge",
                   help="SPY's path: edge: fake IB Gateway -> collector -> spool -> queue; direct: enqueue")
    p.add_argument("--rate-per-hour", type=float, default=30.0, help="injected anomalies per hour per type")
    p.add_argument("--session", choices=("auto", "simulated"), default="auto",
                   help="auto: the exchange's session while it is open with an hour to go, else a simulated one; "
                        "simulated: always a simulated session around now")
    p.add_argument("--log-dir", type=Path, default=REPO / "out" / "demo-stack")
    p.add_argument("--run-seconds", type=float, default=0.0, help="stop after this long (0: until Ctrl-C)")
    args = p.parse_args(argv)
    stop = threading.Event()
    stack = LocalStack(log_dir=args.log_dir, web=True)  # the app's clock is the wall clock
    edge: LocalEdge | None = None
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.start()
        now = datetime.now(timezone.utc)  # the session is chosen once the stack is up: snapshots start now
        hours = live_hours(now, simulated=args.session == "simulated")
        feeds = plan_feeds(args.feed)
        for f in feeds:
            if f.path == "edge":
                edge = LocalEdge(stack.storage_connection, args.log_dir / "edge", seed=args.seed,
                                 rate_per_hour=args.rate_per_hour,
                                 session_hours=f"{iso_ms(hours.open)}/{iso_ms(hours.close)}" if hours.simulated
                                 else None).start()
            else:
                cfg = live_config(f.underlying, hours, datetime.now(timezone.utc), seed=args.seed,
                                  rate_per_hour=args.rate_per_hour)
                threading.Thread(target=feed, args=(stack.storage_connection, cfg, stop), daemon=True,
                                 name=f"feed-{f.underlying}").start()
        print(banner(stack, hours, feeds, edge, args.log_dir), flush=True)
        asyncio.run(watch_until(stack, stop, args.run_seconds))
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
