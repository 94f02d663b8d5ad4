"""``python -m devstack.ibgateway --port 4002``: the fake IB Gateway, standalone (the demo runs it).

With ``--clock-start now`` (the default) it runs on the wall clock: today's session, or outside
market hours a simulated session around now (``spyglass.sim.live``) whose close the contract
details carry, so an honest collector on real time streams it. ``--clock-start ISO`` runs a fixed
day from that time instead (tests, benchmarks); give the collector the same ``--clock-start``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from datetime import datetime, timezone

from devstack.ibgateway.market import live_market, today_market
from devstack.ibgateway.server import FakeGateway
from spyglass.clock import NEW_YORK, parse_new_york
from spyglass.sim.config import SessionHours


def resolve_clock_start(text: str) -> datetime | None:
    """``now`` (or ``auto``): None, the wall clock; else the ISO time (New York without an offset)."""
    return None if text in ("now", "auto") else parse_new_york(text)


def session_hours(text: str | None) -> SessionHours | None:
    """``OPEN/CLOSE`` (ISO times) as a simulated session; None for the default."""
    if not text:
        return None
    open_, sep, close = text.partition("/")
    if not sep:
        raise ValueError(f"--session-hours wants OPEN/CLOSE, got {text!r}")
    return SessionHours(parse_new_york(open_), parse_new_york(close), simulated=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m devstack.ibgateway", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4002)
    p.add_argument("--cadence", type=float, default=0.1, help="seconds between market steps (0: flat out)")
    p.add_argument("--max-lines", type=int, default=100, help="market-data line allowance (error 101 beyond)")
    p.add_argument("--entitlement", choices=("live", "delayed"), default="live")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--inject", action="store_true", help="inject labelled anomalies into the simulated market")
    p.add_argument("--rate-per-hour", type=float, default=None, help="with --inject: anomalies per hour per type")
    p.add_argument("--no-0dte", action="store_true", help="list no expiry today (the collector must idle)")
    p.add_argument("--clock-start", default="now",
                   help="now: the wall clock, today's (or a simulated) session; or the ISO time a fixed day starts at")
    p.add_argument("--session-hours", metavar="OPEN/CLOSE",
                   help="with the wall clock: today's session as two ISO times (default: spyglass.sim.live)")
    p.add_argument("--full-refresh", action="store_true", help="resend every field every step (benchmarks)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    clock_start = resolve_clock_start(args.clock_start)
    now = clock_start or datetime.now(timezone.utc)

    async def run() -> None:
        kw = dict(seed=args.seed, interval_s=args.cadence or 0.1, inject=args.inject,
                  rate_per_hour=args.rate_per_hour, zero_dte=not args.no_0dte)
        if clock_start is not None:
            market = today_market(now, **kw)
        else:
            market = live_market(now, session_hours(args.session_hours), **kw)
        gw = FakeGateway(market, host=args.host, port=args.port, cadence=args.cadence, max_lines=args.max_lines,
                         entitlement=args.entitlement, clock_start=clock_start, full_refresh=args.full_refresh)
        await gw.start()
        close = market.close.astimezone(NEW_YORK)
        print(f"fake IB Gateway listening on {args.host}:{gw.port} (server version 178, market day "
              f"{market.trading_date}, {'simulated ' if market.simulated else ''}close {close:%Y-%m-%d %H:%M} "
              f"New York, clock {'real time' if clock_start is None else 'from ' + now.isoformat()})", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await gw.stop()

    try:
        asyncio.run(run())
    except ValueError as exc:  # e.g. a --clock-start that is not a session day
        print(f"fake gateway: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
