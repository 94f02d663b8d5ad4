"""`python -m devstack.demo` as a newcomer runs it: today's session, three underlyings, a banner that tells the truth.

The demo runs as a subprocess on real components (Azurite, SignalR, the Functions host, the fake IB
Gateway and the real ib_async collector for SPY, the simulator for QQQ and IWM). The test reads
the banner like a user, then asks the API: every underlying has a latest chain stamped about now,
expiring today in New York, marked simulated, whose time to expiry is the printed close minus its
ts; and every URL the banner offers answers with data. Conditions are waited on, never slept on:
the first start compiles the host's kernels (tens of seconds on a busy 2-core machine).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from devstack.proc import start_group, stop_group
from spyglass.clock import NEW_YORK
from spyglass.contract import parse_iso
from spyglass.wire.summary import is_simulated

pytestmark = pytest.mark.xdist_group("demo")

UNDERLYINGS = ("SPY", "QQQ", "IWM")
START_S = 300.0  # the whole stack from cold, on a shared machine: a bound for a hang, not a speed target
DATA_S = 240.0
NOW_S = 120.0  # "stamped now": a past session would be days off; this only allows for a queue behind


def wait_for(what: str, predicate, timeout: float, proc: subprocess.Popen | None = None, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the demo exited ({proc.returncode}) before {what}")
        time.sleep(every)
    raise AssertionError(f"no {what} within {timeout} s")


class Banner:
    def __init__(self, text: str, started: datetime) -> None:
        self.text, self.started = text, started
        api = re.search(r"^\s+API\s+(\S+)\s+\(function key: (\S+)\)", text, re.M)
        assert api, text
        self.api, self.key = api[1], api[2]
        self.close = parse_iso(re.search(r"closes (\S+)\)", text)[1])
        self.curls = [shlex.split(line.strip()) for line in text.splitlines() if line.strip().startswith("curl ")]
        self.exports = [line.strip() for line in text.splitlines() if line.strip().startswith("export ")]

    def get(self, url: str) -> httpx.Response:
        return httpx.get(url, headers={"x-functions-key": self.key}, timeout=30)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    logs: Path = tmp_path_factory.mktemp("demo")
    out = logs / "demo.out"
    started = datetime.now(timezone.utc)
    with open(out, "wb") as sink:
        # a simulated session whatever the hour: the gateway's simulated hours reach the collector
        proc = start_group([sys.executable, "-m", "devstack.demo", "--session", "simulated", "--log-dir", str(logs)],
                           stdout=sink, stderr=subprocess.STDOUT)
    try:
        text = wait_for("banner", lambda: _banner(out), START_S, proc)
        yield Banner(text, started), logs
    finally:
        stop_group(proc, timeout=60.0)  # SIGTERM: the demo stops every process it started, by PID
    assert "stopping the local stack" in out.read_text(errors="replace")


def _banner(out: Path) -> str | None:
    text = out.read_text(errors="replace")
    return text if "Ctrl-C stops" in text else None


def latest(banner: Banner, u: str) -> dict | None:
    r = banner.get(f"{banner.api}/chain/latest?underlying={u}")
    return r.json() if r.status_code == 200 else None


def test_every_underlying_streams_todays_simulated_session_on_the_wall_clock(demo):
    banner, _ = demo
    assert "a simulated session" in banner.text
    assert [c[-1] for c in banner.curls if "chain/latest" in c[-1]] == [
        f"{banner.api}/chain/latest?underlying={u}" for u in UNDERLYINGS]
    for u in UNDERLYINGS:
        doc = wait_for(f"{u} chain", lambda u=u: latest(banner, u), DATA_S)
        ts, now = parse_iso(doc["ts"]), datetime.now(timezone.utc)
        assert abs(now - ts) < timedelta(seconds=NOW_S), (u, doc["ts"], now)
        assert doc["expiry"] == ts.astimezone(NEW_YORK).date().isoformat()
        assert is_simulated(doc["source"]) and doc["source"] == ("ibkr-sim" if u == "SPY" else "sim")
        assert not doc["delayed"]
        # the simulated market's time to expiry is the printed close minus ts
        close = ts + timedelta(minutes=doc["minutes_to_close"])
        assert abs(close - banner.close) < timedelta(seconds=1), (u, close, banner.close)


def test_every_url_the_banner_prints_answers_with_data(demo):
    banner, _ = demo
    started = banner.started
    for u in UNDERLYINGS:  # SPY comes through the edge, last
        wait_for(f"{u} chain", lambda u=u: latest(banner, u), DATA_S)
    urls = [c[-1] for c in banner.curls]
    assert any("/anomalies?" in u for u in urls) and any("/signals?" in u for u in urls)
    for url in urls:
        if "/signals?" in url:  # a signal needs a high-severity edge of $10+ a contract: minutes, not seconds
            body = banner.get(url).raise_for_status().json()
            since = parse_iso(body["since"])
            assert datetime.now(timezone.utc) - timedelta(hours=1, minutes=1) < since  # the window covers now
            continue

        def answered(url=url) -> dict | None:
            r = banner.get(url)
            if r.status_code != 200:
                return None
            body = r.json()
            return body if body.get("items") or body.get("schema") else None

        body = wait_for(url, answered, DATA_S)
        for item in body.get("items", [body]):  # today's data, from this run: nothing before the demo started
            assert started - timedelta(seconds=1) <= parse_iso(item["ts"]) <= datetime.now(timezone.utc), (url, item)


def test_the_banner_gives_the_poison_tools_their_storage_and_the_ingest_log_has_each_snapshot_key(demo):
    banner, logs = demo
    assert len(banner.exports) == 1
    setting = shlex.split(banner.exports[0].removeprefix("export "))[0]
    name, conn = setting.split("=", 1)
    assert name == "AzureWebJobsStorage" and "QueueEndpoint=" in conn
    listed = subprocess.run([sys.executable, "-m", "functions.poison", "list"], env={**os.environ, name: conn},
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "spyglass poison list" in banner.text
    # one INFO line per ingest invocation, with the snapshot key (docs/operations.md)
    keys = wait_for("ingest lines", lambda: re.findall(r"INFO spyglass\.ingest: (QQQ:\d{4}-\d\d-\d\d:\S+): 1 snapshot",
                                                       (logs / "host.log").read_text(errors="replace")), DATA_S)
    assert keys

