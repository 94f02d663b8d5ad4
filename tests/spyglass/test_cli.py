"""The `spyglass` command line, run as a user runs it (a subprocess on the installed entry point)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.spyglass.chainkit import T0, ChainKit
from tests.spyglass.detect.test_rules import shift

SPYGLASS = [sys.executable, "-m", "spyglass.cli"]


def spyglass(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*SPYGLASS, *args], input=stdin, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> Path:
    kit = ChainKit(seed=9)
    lines = [s.to_json() for s in kit.stream(T0, 16, {s: shift("C", 602, 0.12, kit) for s in range(8, 16)})]
    lines.insert(3, b'{"schema":"chain-snapshot/1","underlying":"SPY"}')  # line 4: missing fields
    lines.insert(6, b"this is not json")  # line 7
    path = tmp_path_factory.mktemp("cli") / "day.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n")
    return path


def test_score_reports_bad_lines_by_number_and_carries_on(day, tmp_path):
    out, side = tmp_path / "anomalies.jsonl", tmp_path / "analytics.jsonl"
    r = spyglass("score", str(day), "-o", str(out), "--analytics", str(side), "--no-progress")
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert f"{day}:4: invalid chain-snapshot/1: ts: Field required" in err
    assert f"{day}:7: invalid chain-snapshot/1" in err
    assert "scored 16 snapshots (2 bad lines skipped)" in err
    anomalies = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(a["type"], a["strike"]) for a in anomalies if a["type"] == "mispricing"] == [("mispricing", 602.0)]
    assert len(side.read_text().splitlines()) == 16


def test_score_reads_stdin_and_writes_stdout(day):
    r = spyglass("score", "-", "--no-progress", stdin=gzip.decompress(day.read_bytes()))
    assert r.returncode == 0
    assert any(json.loads(x)["type"] == "mispricing" for x in r.stdout.decode().splitlines())


def test_a_recording_cut_mid_write_is_scored_up_to_the_cut(tmp_path):
    kit = ChainKit(seed=9)
    path = tmp_path / "cut.jsonl.gz"
    with open(path, "wb") as fh:  # one gzip member per snapshot, as the edge recorder writes them
        for s in kit.stream(T0, 6):
            fh.write(gzip.compress(s.to_json() + b"\n"))
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) - 400])  # the crash: the last member is cut short
    r = spyglass("score", str(path), "--no-progress")
    err = r.stderr.decode()
    assert r.returncode == 0, err
    assert "truncated at the end" in err and "scored 5 snapshots" in err


def test_unreadable_input_exits_non_zero(tmp_path):
    r = spyglass("score", str(tmp_path / "missing.jsonl"), "--no-progress")
    assert r.returncode == 2 and "cannot read" in r.stderr.decode()


def test_report_prints_a_readable_summary(day, tmp_path):
    out, side = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    spyglass("score", str(day), "-o", str(out), "--analytics", str(side), "--no-progress")
    r = spyglass("report", str(out), "--analytics", str(side))
    text = r.stdout.decode()
    assert r.returncode == 0 and "ATM IV" in text and "mispricing" in text and "by edge beyond the spread" in text


def _adapters(monkeypatch, tmp_path, *values):
    from importlib.metadata import EntryPoint

    import spyglass.cli

    (tmp_path / "adapter_with_a_missing_dependency.py").write_text("import no_such_dependency_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [EntryPoint(name=f"cmd{i}", value=v, group=spyglass.cli.COMMANDS) for i, v in enumerate(values)]
    monkeypatch.setattr(spyglass.cli, "entry_points", lambda group: eps if group == spyglass.cli.COMMANDS else [])
    return spyglass.cli.register_adapters


def test_the_adapters_register_their_own_commands_and_an_absent_one_is_skipped(monkeypatch, tmp_path):
    import typer

    register = _adapters(monkeypatch, tmp_path, "no_such_adapter_package.cli:register", "edge.collector.cli:register")
    app = typer.Typer()
    register(app)
    assert [c.callback.__name__ for c in app.registered_commands] == ["collect"]


def test_an_installed_adapter_missing_a_dependency_of_its_own_is_an_error(monkeypatch, tmp_path):
    import typer

    register = _adapters(monkeypatch, tmp_path, "adapter_with_a_missing_dependency:register")
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_here"):
        register(typer.Typer())


def test_the_adapters_commands_run_as_their_own_modules():
    for module, words in (("edge.collector", "--source"), ("functions.poison", "replay")):
        run = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and words in run.stdout, run.stderr


def test_score_writes_the_markouts_and_report_grades_them(day, tmp_path):
    out, marks = tmp_path / "a.jsonl", tmp_path / "m.jsonl"
    r = spyglass("score", str(day), "-o", str(out), "--outcomes", str(marks), "--no-progress")
    assert r.returncode == 0, r.stderr.decode()
    (alert,) = [json.loads(x) for x in out.read_text().splitlines() if json.loads(x)["type"] == "mispricing"]
    got = {(m["anomaly_id"], m["horizon"]): m for m in map(json.loads, marks.read_text().splitlines())}
    assert got[(alert["id"], "5s")]["status"] == "ok"  # 5 s after second 8: second 13 of 16
    assert got[(alert["id"], "30s")]["reason"] == "the session ended before this horizon"
    assert got[(alert["id"], "settle")]["mid"] is not None  # at the last spot the stream knows
    text = spyglass("report", str(out), "--outcomes", str(marks)).stdout.decode()
    graded = text.split("graded by the market")[1]
    assert [line.split()[:4] for line in graded.splitlines() if line.startswith("mispricing")] == [
        ["mispricing", "all", "5s", "1"], ["mispricing", "all", "30s", "0"], ["mispricing", "all", "2m", "0"],
        ["mispricing", "all", "5m", "0"], ["mispricing", "all", "settle", "1"]]
