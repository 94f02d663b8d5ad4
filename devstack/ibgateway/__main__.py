"""``python -m devstack.ibgateway --port 4002``: the fake IB Gateway, standalone (the demo runs it).

Outside market hours the gateway pretends: with ``--clock-start auto`` (the default) it runs the
clock from now during a session, else from 10:00 New York on the latest session day. Give the
collector the same ``--clock-start`` so both agree on the market day.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from datetime import datetime, time, timezone

from devstack.ibgateway.market import today_market
from devstack.ibgateway.server import FakeGateway
from spyglass.clock import NEW_YORK, is_market_open, parse_new_york


def resolve_clock_start(text: str) -> datetime | None:
    """``auto``: None (real time) during a session, else 10:00 New York of the latest session day."""
    if text != "auto":
        return parse_new_york(text)
    now = datetime.now(timezone.utc)
    if is_market_open(now):
        return None
    from spyglass.sim.config import last_session_on_or_before

    day = last_session_on_or_before(now.astimezone(NEW_YORK).date())
    return datetime.combine(day, time(10, 0), NEW_YORK).astimezone(timezone.utc)


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
    p.add_argument("--clock-start", default="auto", help="ISO time the gateway clock starts at, or auto")
    p.add_argument("--full-refresh", action="store_true", help="resend every field every step (benchmarks)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    clock_start = resolve_clock_start(args.clock_start)
    now = clock_start or datetime.now(timezone.utc)

    async def run() -> None:
        market = today_market(now, seed=args.seed, interval_s=args.cadence or 0.1, inject=args.inject,
                              rate_per_hour=args.rate_per_hour, zero_dte=not args.no_0dte)
        gw = FakeGateway(market, host=args.host, port=args.port, cadence=args.cadence, max_lines=args.max_lines,
                         entitlement=args.entitlement, clock_start=clock_start, full_refresh=args.full_refresh)
        await gw.start()
        print(f"fake IB Gateway listening on {args.host}:{gw.port} (server version 178, market day "
              f"{market.trading_date}, clock {'real time' if clock_start is None else 'from ' + now.isoformat()})",
              flush=True)
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
