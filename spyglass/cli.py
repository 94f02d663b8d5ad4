"""``spyglass``: score, simulate and evaluate from the command line. Thin: the work is in the core."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from tqdm import tqdm

from spyglass import __version__

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


@app.command()
def score(
    source: Annotated[str, typer.Argument(help="snapshot JSON lines: a file, .gz, or - for stdin")],
    output: Annotated[str, typer.Option("-o", "--output", help="anomaly JSON lines (default stdout)")] = "-",
    analytics: Annotated[Optional[str], typer.Option("--analytics", help="chain analytics JSON lines")] = None,
    progress: Annotated[bool, typer.Option(help="progress bar on stderr")] = True,
) -> None:
    """Score snapshots in order, keeping each chain's state; bad lines are reported and skipped."""
    from spyglass.contract import SnapshotError, Snapshot
    from spyglass.jsonl import open_lines, open_sink
    from spyglass.session import ScoringSession

    session = ScoringSession()
    bad = 0
    try:
        with open_lines(source) as lines, open_sink(output) as out, open_sink(analytics) as side:
            bar = tqdm(lines, unit=" snapshots", disable=not progress or None, file=sys.stderr, leave=False)
            for lineno, raw in enumerate(bar, start=1):
                if not raw.strip():
                    continue
                try:
                    snapshot = Snapshot.from_json(raw)
                except SnapshotError as exc:
                    bad += 1
                    _err(f"{source}:{lineno}: {exc}")
                    continue
                result = session.feed(snapshot)
                for a in result.anomalies:
                    out.write(a.to_json() + b"\n")
                if side is not None and result.analytics is not None:
                    side.write(result.analytics.to_json() + b"\n")
    except OSError as exc:
        _err(f"cannot read {source}: {exc}")
        raise typer.Exit(2) from None
    c = session.counts
    found = ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if k != "snapshots") or "no anomalies"
    _err(f"scored {c['snapshots']} snapshots ({bad} bad lines skipped): {found}")


@app.command()
def simulate(
    output: Annotated[str, typer.Option("-o", "--output", help="snapshot JSON lines (.gz ok, - for stdout)")] = "-",
    labels: Annotated[Optional[str], typer.Option("--labels", help="labels of the injected anomalies")] = None,
    scenario: Annotated[Optional[str], typer.Option(
        help="a named messy day: clean, clean_no_age, stale, stale_no_age, fat_finger, gap, gap_twin, "
             "early_close, qqq, session_start, messy, small_edges (the options below override it)")] = None,
    no_quote_age: Annotated[bool, typer.Option("--no-quote-age", help="scenario: leave quote_age_ms out")] = False,
    underlying: Annotated[Optional[str], typer.Option(help="SPY, QQQ, IWM or any symbol (give --spot)")] = None,
    day: Annotated[Optional[str], typer.Option("--date", help="trading date YYYY-MM-DD (default today NY; "
                                                              "a scenario has its own)")] = None,
    start: Annotated[Optional[str], typer.Option(help="New York start time (default 09:30)")] = None,
    hours: Annotated[Optional[float], typer.Option(help="hours to simulate (default to the close)")] = None,
    interval: Annotated[Optional[float], typer.Option(help="seconds between snapshots (default 1)")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    spot: Annotated[Optional[float], typer.Option(help="opening spot")] = None,
    rate: Annotated[Optional[float], typer.Option("--rate-per-hour", help="injections per hour of each type")] = None,
    clean: Annotated[bool, typer.Option("--clean", help="inject nothing")] = False,
    progress: Annotated[bool, typer.Option(help="progress bar on stderr")] = True,
) -> None:
    """Simulate a realistic 0DTE session with labelled injected anomalies of every type."""
    from dataclasses import replace
    from datetime import date, datetime, timedelta

    from spyglass.sim import DEFAULT_RATES, InjectionConfig, SimConfig, scenario_config, write_day

    def end_after(t0: object) -> str:  # "HH:MM", "HH:MM:SS" or a time
        text = str(t0)
        t = datetime.strptime(text, "%H:%M:%S" if text.count(":") == 2 else "%H:%M")
        return (t + timedelta(hours=hours)).time().strftime("%H:%M:%S")

    rates = None if rate is None else {t: rate for t in DEFAULT_RATES}
    try:
        if scenario is None:
            cfg = SimConfig(
                underlying=underlying or "SPY", trading_date=date.fromisoformat(day) if day else None,
                start=start or "09:30", end=None if hours is None else end_after(start or "09:30"),
                interval_s=interval or 1.0, seed=seed, spot=spot,
                injection=InjectionConfig(enabled=not clean, rates=rates or dict(DEFAULT_RATES)),
            )
        else:
            cfg = scenario_config(scenario, seed, day, age_field=False if no_quote_age else None)
            given = {k: v for k, v in (("underlying", underlying), ("start", start), ("interval_s", interval),
                                       ("spot", spot)) if v is not None}
            if hours is not None:
                given["end"] = end_after(start or cfg.start)
            if clean:
                given["injection"] = InjectionConfig(enabled=False)
            elif rates is not None:
                given["injection"] = replace(cfg.injection, enabled=True, rates=rates)
            cfg = replace(cfg, **given)
        files = write_day(cfg, output, labels, progress=progress)
    except ValueError as exc:
        _err(f"simulate: {exc}")
        raise typer.Exit(2) from None
    _err(f"simulated {files.snapshots} snapshots {files.first_ts} .. {files.last_ts}, {files.labels} labelled "
         f"anomalies{f' -> {labels}' if labels else ''}")


@app.command()
def evaluate(
    files: Annotated[list[Path], typer.Argument(
        help="LABELS ANOMALIES: labels from `spyglass simulate`, anomalies from `spyglass score`; "
             "repeat the pair for more days (summed)")],
    snapshots: Annotated[Optional[list[Path]], typer.Option(
        help="each day's snapshots in the same order, for false alarms per hour")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Precision and recall per anomaly type, false alarms per hour (clean days apart), stale lines called market."""
    from spyglass.evaluate import evaluate_day_files

    if len(files) % 2:
        _err("evaluate: give LABELS ANOMALIES pairs, one per day")
        raise typer.Exit(2)
    pairs = list(zip(files[::2], files[1::2]))
    snaps = list(snapshots or [])
    if snaps and len(snaps) != len(pairs):
        _err(f"evaluate: {len(pairs)} days but {len(snaps)} --snapshots")
        raise typer.Exit(2)
    report = evaluate_day_files([(lb, an, snaps[i] if snaps else None) for i, (lb, an) in enumerate(pairs)])
    print(json.dumps(report.to_dict(), indent=2) if as_json else report.to_text())


@app.command()
def report(
    anomalies: Annotated[Path, typer.Argument(help="anomaly JSON lines from `spyglass score`")],
    analytics: Annotated[Optional[Path], typer.Option("--analytics", help="chain analytics JSON lines")] = None,
    every: Annotated[float, typer.Option(help="minutes between analytics rows")] = 30.0,
) -> None:
    """Print a readable summary of a scored day."""
    from spyglass.jsonl import read_records
    from spyglass.report import analytics_table, anomaly_summary

    if analytics is not None:
        print("\n".join(analytics_table(read_records(analytics), every)), end="\n\n")
    print("\n".join(anomaly_summary(list(read_records(anomalies)))))


poison_app = typer.Typer(no_args_is_help=True, help="Inspect and replay the chain-snapshots-poison queue.")
app.add_typer(poison_app, name="poison")
_CONN = typer.Option("--connection-string", envvar="AzureWebJobsStorage", help="storage connection string")


@poison_app.command("list")
def poison_list(connection_string: Annotated[str, _CONN]) -> None:
    """Every poisoned message: its tries, size and why it failed."""
    from functions.poison import MAX_MESSAGES, Inspector

    messages = Inspector(connection_string).messages()
    for m in messages:
        tries = "?" if m.tries is None else m.tries
        print(f"{m.id}  inserted {m.inserted}  tries {tries}  {len(m.text)} chars  {m.reason}")
    more = " (the listing stops there: replay or delete some to see the rest)" if len(messages) >= MAX_MESSAGES else ""
    _err(f"{len(messages)} message(s) in the poison queue{more}")
    if any(m.tries is None for m in messages):
        _err("tries ?: no failed try was recorded (the host moved it without the function finishing a try); "
             "the reason is what decoding it says now")


@poison_app.command("show")
def poison_show(message_id: str, connection_string: Annotated[str, _CONN]) -> None:
    """The full text of one poisoned message, why it failed and how many tries it had."""
    from functions.poison import Inspector

    for m in Inspector(connection_string).messages():
        if m.id == message_id:
            print(m.text)
            _err(f"reason: {m.reason}")
            _err(f"tries: {'? (none recorded)' if m.tries is None else m.tries}"
                 + (f", as message {m.original_id} on chain-snapshots" if m.original_id else ""))
            return
    _err(f"no message {message_id} in the poison queue")
    raise typer.Exit(1)


@poison_app.command("replay")
def poison_replay(
    connection_string: Annotated[str, _CONN],
    ids: Annotated[Optional[list[str]], typer.Argument(help="message ids (default: all)")] = None,
) -> None:
    """Move poisoned messages back to chain-snapshots (after fixing what made them fail)."""
    from functions.poison import Inspector

    print(f"replayed {Inspector(connection_string).replay(set(ids) if ids else None)} message(s)")


@app.command()
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
        source=source, ibkr=IbkrConfig(host=host, port=port, client_id=client_id, lines=lines),
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


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
