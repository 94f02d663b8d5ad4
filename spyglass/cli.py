"""``spyglass``: score, simulate, evaluate and report from the command line. Thin: the work is in the core.

The adapters add their own commands (``collect`` from edge/, ``poison`` from functions/) through the
``spyglass.commands`` entry points: the core never imports them. Each entry point names a
``register(app)``; one whose package is not installed here (the edge image has no functions/) is skipped.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer
from tqdm import tqdm

from spyglass import __version__

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
COMMANDS = "spyglass.commands"  # the entry-point group of the adapters' commands


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


@app.command()
def score(
    source: Annotated[str, typer.Argument(help="snapshot JSON lines: a file, .gz, or - for stdin")],
    output: Annotated[str, typer.Option("-o", "--output", help="anomaly JSON lines (default stdout)")] = "-",
    analytics: Annotated[Optional[str], typer.Option("--analytics", help="chain analytics JSON lines")] = None,
    outcomes: Annotated[Optional[str], typer.Option(
        "--outcomes", help="markout JSON lines: each alert's trade at 5 s, 30 s, 2 min, 5 min and settled at the "
                           "last spot")] = None,
    progress: Annotated[bool, typer.Option(help="progress bar on stderr")] = True,
) -> None:
    """Score snapshots in order, keeping each chain's state; bad lines are reported and skipped."""
    from spyglass.contract import SnapshotError, Snapshot
    from spyglass.jsonl import open_lines, open_sink
    from spyglass.session import ScoringSession

    session = ScoringSession()
    bad = 0
    try:
        with (open_lines(source) as lines, open_sink(output) as out, open_sink(analytics) as side,
              open_sink(outcomes) as marks):
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
                if marks is not None:
                    marks.writelines(orjson.dumps(m.to_dict()) + b"\n" for m in result.outcomes)
            if marks is not None:
                marks.writelines(orjson.dumps(m.to_dict()) + b"\n" for m in session.close_day())
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
    outcomes: Annotated[Optional[Path], typer.Option("--outcomes", help="markout JSON lines from `spyglass score`")]
    = None,
    every: Annotated[float, typer.Option(help="minutes between analytics rows")] = 30.0,
) -> None:
    """Print a readable summary of a scored day, and the alert types graded by their markouts."""
    from spyglass.jsonl import read_records
    from spyglass.outcome import Markout, grade
    from spyglass.outcome.grading import table
    from spyglass.report import analytics_table, anomaly_summary

    if analytics is not None:
        print("\n".join(analytics_table(read_records(analytics), every)), end="\n\n")
    print("\n".join(anomaly_summary(list(read_records(anomalies)))))
    if outcomes is not None:
        print("\nAlerts graded by the market (dollars per contract after fees; mid unless exit):")
        print(table(grade(Markout.from_dict(d) for d in read_records(outcomes))))


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


def register_adapters(app: typer.Typer) -> None:
    """Add every installed adapter's commands to ``app``."""
    for ep in entry_points(group=COMMANDS):
        try:
            register = ep.load()
        except ModuleNotFoundError as exc:
            if exc.name is None or ep.module.split(".")[0] != exc.name.split(".")[0]:
                raise
            continue  # that adapter's package is not installed here
        register(app)


register_adapters(app)

if __name__ == "__main__":  # pragma: no cover
    app()
