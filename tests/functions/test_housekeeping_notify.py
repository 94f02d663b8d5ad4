"""Retention purge and webhook notifications against real Azurite and a real local HTTP receiver."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from functions import storage
from functions.housekeeping import purge
from functions.notify import NotifyConfig, message, notify
from spyglass.contract import Anomaly

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc)


def test_purge_deletes_old_rows_and_chain_states_and_keeps_recent(app):
    t = storage.table("purgetest")
    old, new = NOW - timedelta(days=40), NOW - timedelta(days=1)
    rows = [{"PartitionKey": f"SPY-{i % 3}", "RowKey": f"{i:04d}", "ts": old} for i in range(150)]
    rows += [{"PartitionKey": "SPY-9", "RowKey": "new", "ts": new},
             {"PartitionKey": "SPY-20261001", "RowKey": "state", "last_ts": old},
             {"PartitionKey": "SPY-20261123", "RowKey": "state", "last_ts": new}]
    storage.upsert_all(t, rows)
    assert purge(t, NOW - timedelta(days=30)) == 151
    left = {(e["PartitionKey"], e["RowKey"]) for e in t.list_entities()}
    assert left == {("SPY-9", "new"), ("SPY-20261123", "state")}


@pytest.fixture
def receiver():
    got: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"ok":true}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/bot-test/sendMessage", got
    server.shutdown()


def anomaly(i: int, severity: str = "high", state: str = "new", type_: str = "mispricing") -> Anomaly:
    return Anomaly(underlying="SPY", expiry=NOW.date(), ts=NOW + timedelta(seconds=i), right="C", strike=600.0 + i,
                   type=type_, score=9.0, severity=severity, edge=12.0,
                   evidence={"summary": f"test {i}", "state": state}, data_quality={"grade": "good"})


def test_only_new_high_market_anomalies_notify_within_the_rate_limit(app, receiver):
    url, got = receiver
    cfg = NotifyConfig(url=url, chat_id="42", max_per_minute=3)
    t = storage.table("notifytest")
    batch = [anomaly(0, "low"), anomaly(1, state="continuing"), anomaly(2, type_="data_error")]
    batch += [anomaly(i) for i in range(3, 8)]
    assert notify(batch, t, cfg, now=NOW) == 3
    assert [g["text"].split(": ", 1)[1] for g in got] == ["test 3", "test 4", "test 5"]
    assert all(g["chat_id"] == "42" and g["text"].startswith("[HIGH] SPY mispricing") for g in got)


def test_rate_limit_holds_across_concurrent_instances(app, receiver):
    url, got = receiver
    cfg = NotifyConfig(url=url, chat_id="1", max_per_minute=4)
    t = storage.table("notifyrace")
    results: list[int] = []
    threads = [threading.Thread(target=lambda k=k: results.append(notify([anomaly(10 * k + i) for i in range(4)],
                                                                         t, cfg, now=NOW))) for k in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(results) == len(got) == 4


def test_no_webhook_configured_sends_nothing(app, monkeypatch):
    monkeypatch.delenv("NOTIFY_WEBHOOK_URL", raising=False)
    assert NotifyConfig.from_env() is None
    assert notify([anomaly(1)], storage.table("notifytest"), None) == 0


def test_an_incident_is_one_message_naming_its_facets():
    single = anomaly(1)
    incident = Anomaly.from_dict({**single.to_dict(), "facets": [
        {"type": t, "rule": f"{t}.x", "score": 2.0, "severity": "high", "edge": None, "summary": t, "evidence": {}}
        for t in ("parity", "arbitrage")]})
    assert message(single) == "[HIGH] SPY mispricing: test 1"
    assert message(incident) == "[HIGH] SPY mispricing + parity + arbitrage: test 1"
