"""``spyglass collect`` (and ``python -m edge.collector``): snapshots from a source into the recorder and the queue.

Registered on the ``spyglass`` command by the ``spyglass.commands`` entry point; the edge image runs
``python -m edge.collector``.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def collect(
    source: Annotated[str, typer.Option(help="ibkr (IB Gateway), sim (simulator in real time) or replay")] = "ibkr",
    recordings: Annotated[Optional[list[str]], typer.Argument(help="replay: recording files or directories")] = None,
    host: Annotated[str, typer.Option(help="IB Gateway host")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="IB Gateway API port")] = 4002,
    client_id: Annotated[int, typer.Option(help="IBKR API client id (one per collector)")] = 17,
    underlying: Annotated[str, typer.Option(help="underlying symbol")] = "SPY",
    lines: Annotated[int, typer.Option(help="market-data line allowance (underlying + options + 1 spare)")] = 100,
    scan_interval: Annotated[float, typer.Option(envvar="SCAN_INTERVAL", help="seconds between snapshots")] = 1.0,
    record: Annotated[Optional[str], typer.Option(help="directory for daily JSONL.gz recordings")] = None,
    queue: Annotated[Optional[str], typer.Option(
        help="publish to the queue: a queue SAS URL, a storage connection string, or 'env' "
             "(QUEUE_SAS_URL / STORAGE_CONNECTION_STRING / AzureWebJobsStorage)")] = None,
    spool: Annotated[Optional[str], typer.Option(envvar="SPOOL_PATH", help="SQLite spool file")] = None,
    ops_port: Annotated[int, typer.Option(help="/healthz /readyz /metrics port (-1: off)")] = 9100,
    speed: Annotated[float, typer.Option(help="replay speed factor (0: as fast as possible)")] = 1.0,
    seed: Annotated[int, typer.Option(help="sim: random seed")] = 0,
    clean: Annotated[bool, typer.Option("--clean", help="sim: inject no anomalies")] = False,
    simulated: Annotated[bool, typer.Option(
        "--simulated", help="ibkr: the gateway serves a simulated market (the demo's fake gateway); "
                            "snapshots say source ibkr-sim")] = False,
    clock_start: Annotated[Optional[str], typer.Option(
        help="demo/tests: run the clock from this ISO time (New York if no offset)")] = None,
    progress: Annotated[bool, typer.Option(help="replay progress bar on stderr")] = True,
) -> None:
    """Collect chain snapshots (IB Gateway, simulator or a recording) into the recorder and the queue."""
    import asyncio
    import logging

    from edge.collector.app import CollectOptions, collect as run_collect
    from edge.collector.ibkr import IbkrConfig
    from spyglass.clock import parse_new_york

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("ib_async").setLevel(logging.WARNING)  # its INFO is one line per request
    start = None
    if clock_start:
        start = parse_new_york(clock_start)
    opts = CollectOptions(
        source=source, ibkr=IbkrConfig(host=host, port=port, client_id=client_id, lines=lines,
                                       source="ibkr-sim" if simulated else "ibkr"),
        underlying=underlying.upper(), scan_interval=scan_interval, seed=seed, inject=not clean,
        replay=list(recordings or []), speed=speed, progress=progress, record=record, queue=queue, spool=spool,
        ops_port=None if ops_port < 0 else ops_port, clock_start=start,
    )
    try:
        fan = asyncio.run(run_collect(opts))
    except (ValueError, FileNotFoundError) as exc:
        _err(f"collect: {exc}")
        raise typer.Exit(2) from None
    _err(f"collected {fan.count} snapshots ({fan.failures} sink failures)")


def register(app: typer.Typer) -> None:
    """The ``spyglass.commands`` entry point: ``spyglass collect ...``."""
    app.command()(collect)


def main() -> None:
    app = typer.Typer(add_completion=False)
    app.command()(collect)
    app(prog_name="python -m edge.collector")
