"""Ops endpoints over real HTTP on a free port: liveness, readiness with its reason, Prometheus metrics."""

from __future__ import annotations

import httpx
import pytest

from edge.collector.ops import OpsServer, all_ready
from edge.collector.publish_queue import QueueTarget
from edge.collector.publisher import Publisher
from edge.collector.spool import Spool
from tests.edge.publisher.conftest import make_snapshot

pytestmark = pytest.mark.xdist_group("edge-publisher")

# a target nobody listens on: these tests never start the drain, so no request is made
UNUSED = "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;QueueEndpoint=http://127.0.0.1:9/a;BlobEndpoint=http://127.0.0.1:9/a"


def test_health_ready_and_metrics(spool_path):
    state = {"connected": False}

    def source() -> tuple[bool, str]:
        return (True, "connected, data 0.4 s old") if state["connected"] else (False, "gateway disconnected")

    pub = Publisher(Spool(spool_path, max_count=3), QueueTarget.from_connection_string(UNUSED, "q-ops"))
    with OpsServer(all_ready(source, pub.readiness), host="127.0.0.1", port=0) as ops, httpx.Client() as http:
        assert ops.port > 0
        assert http.get(f"{ops.url}/healthz").status_code == 200

        r = http.get(f"{ops.url}/readyz")
        assert r.status_code == 503 and "gateway disconnected" in r.text
        state["connected"] = True
        r = http.get(f"{ops.url}/readyz")
        assert r.status_code == 200 and "data 0.4 s old" in r.text and "0 snapshots spooled" in r.text

        for i in range(3):
            pub.submit(make_snapshot(i))
        with pytest.raises(Exception, match="spool full"):
            pub.submit(make_snapshot(3))
        r = http.get(f"{ops.url}/readyz")
        assert r.status_code == 503 and "spool full" in r.text

        r = http.get(f"{ops.url}/metrics", headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=")
        lines = r.text.splitlines()
        assert "spyglass_collector_spool_depth 3.0" in lines
        assert "spyglass_collector_spool_full 1.0" in lines
        assert any(line.startswith("spyglass_collector_send_seconds_bucket") for line in lines)
        raw = httpx.get(f"{ops.url}/metrics", headers={"Accept-Encoding": "gzip"})  # httpx decodes it
        assert raw.headers["content-encoding"] == "gzip" and "spyglass_collector_spool_depth 3.0" in raw.text
        assert http.get(f"{ops.url}/nope").status_code == 404
    pub.stop()
    with pytest.raises(httpx.ConnectError):  # stopped means the port is closed
        httpx.get(f"{ops.url}/healthz", timeout=2)


def test_a_readiness_check_that_raises_is_not_ready():
    def broken() -> tuple[bool, str]:
        raise RuntimeError("state unknown")

    with OpsServer(broken, host="127.0.0.1", port=0) as ops:
        r = httpx.get(f"{ops.url}/readyz")
        assert r.status_code == 503 and "RuntimeError: state unknown" in r.text
        assert httpx.get(f"{ops.url}/healthz").status_code == 200  # liveness stays up: no restart for this
