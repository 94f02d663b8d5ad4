"""`spyglass simulate --scenario` and `spyglass evaluate` over several days, through the real command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from spyglass.cli import app
from spyglass.jsonl import read_records

runner = CliRunner()


def cli(*args: str):
    return runner.invoke(app, list(args))


def test_simulate_a_scenario_with_and_without_quote_ages(tmp_path):
    snaps, labels = tmp_path / "stale.jsonl.gz", tmp_path / "stale-labels.jsonl"
    r = cli("simulate", "--scenario", "stale", "--seed", "4", "--start", "10:00", "--hours", "0.1",
            "-o", str(snaps), "--labels", str(labels), "--no-progress")
    assert r.exit_code == 0, r.output
    recs = list(read_records(snaps))
    assert len(recs) == 180 and recs[0]["ts"] == "2026-11-24T15:00:00.000Z"  # the scenario's date, 2 s
    assert all("quote_age_ms" in c for c in recs[-1]["contracts"])
    labs = list(read_records(labels))
    assert labs and {lb["detail"]["age_field"] for lb in labs} == {True}
    bare = tmp_path / "bare.jsonl"
    r = cli("simulate", "--scenario", "stale", "--seed", "4", "--start", "10:00", "--hours", "0.1", "--no-quote-age",
            "--interval", "5", "-o", str(bare), "--no-progress")
    assert r.exit_code == 0, r.output
    recs = list(read_records(bare))
    assert len(recs) == 72 and not any("quote_age_ms" in c for c in recs[0]["contracts"])
    r = cli("simulate", "--scenario", "nope", "-o", str(bare), "--no-progress")
    assert r.exit_code == 2 and "unknown scenario 'nope'" in r.output


def test_evaluate_sums_days_and_reports_clean_days(tmp_path):
    day1 = tmp_path / "stale"
    day2 = tmp_path / "clean"
    for d, name in ((day1, "stale"), (day2, "clean")):
        r = cli("simulate", "--scenario", name, "--seed", "4", "--start", "10:00", "--hours", "0.1",
                "-o", f"{d}.jsonl", "--labels", f"{d}-labels.jsonl", "--no-progress")
        assert r.exit_code == 0, r.output
    labels = list(read_records(f"{day1}-labels.jsonl"))
    assert labels
    found = [{"type": "data_error", "right": lb["right"], "strike": lb["strike"], "ts": lb["start"],
              "evidence": {"first_seen": lb["start"]}} for lb in labels]
    found.append({"type": "mispricing", "right": labels[0]["right"], "strike": labels[0]["strike"],
                  "ts": labels[0]["end"], "evidence": {"first_seen": labels[0]["start"]}})
    (tmp_path / "stale-anomalies.jsonl").write_text("\n".join(json.dumps(a) for a in found) + "\n")
    (tmp_path / "clean-anomalies.jsonl").write_text(json.dumps(
        {"type": "volume_spike", "right": "C", "strike": 600.0, "ts": "2026-11-24T15:01:00.000Z"}) + "\n")
    args = ["evaluate", f"{day1}-labels.jsonl", str(tmp_path / "stale-anomalies.jsonl"),
            f"{day2}-labels.jsonl", str(tmp_path / "clean-anomalies.jsonl"),
            "--snapshots", f"{day1}.jsonl", "--snapshots", f"{day2}.jsonl"]
    r = cli(*args)
    assert r.exit_code == 0, r.output
    assert "2 days" in r.output and "clean days: 1 (0.10 h), false alarms per hour: market 10.00" in r.output
    assert "stale lines reported as market anomalies:" in r.output
    r = cli(*args, "--json")
    out = json.loads(r.output)
    assert out["days"] == 2 and out["clean_days"]["market_events"] == 1
    assert out["hours"] == 0.2
    st = out["stale_as_market"]
    assert st["as_market"] == 1 and st["line_snapshots"] > 1  # the one mispricing record, on a frozen line
    assert out["by_type"]["data_error"]["recall"] == 1.0
    r = cli("evaluate", f"{day1}-labels.jsonl")
    assert r.exit_code == 2 and "pairs" in r.output
    r = cli(*args[:5], "--snapshots", f"{day1}.jsonl")
    assert r.exit_code == 2 and "2 days but 1 --snapshots" in r.output
