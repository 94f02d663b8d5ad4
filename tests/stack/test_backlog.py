"""While a backlog drains, the API answers from its own host process (SPYGLASS_APP_ROLE=api), correctly.

Latency is the bench's (bench/bench_backlog.py); here: every answer during the drain is a right one,
at least one came while the backlog was still there, and the consumer applied everything meanwhile.
"""

from __future__ import annotations

import time

import httpx
import orjson
import pytest

from devstack.azurite import Azurite
from devstack.stack import LocalStack
from spyglass.wire.queue import encode_compact
from tests.stack.test_whole_path import queue, snapshots

pytestmark = pytest.mark.xdist_group("backlog-stack")
CHAINS = ("SPY", "QQQ", "IWM")
PER_CHAIN = 60
WINDOW = {"since": "2026-11-24T00:00:00Z", "until": "2026-11-25T00:00:00Z"}


@pytest.fixture(scope="module")
def stack():
    with LocalStack(azurite=Azurite(in_memory=True), clock_start="2026-11-24T20:00:00Z") as s:
        yield s


def applied(http: httpx.Client, stack: LocalStack) -> bool:
    for u in CHAINS:
        r = http.get(f"{stack.api}/chain/latest", params={"underlying": u})
        if r.status_code != 200 or r.json()["seq"] != PER_CHAIN - 1:
            return False
    return True


def test_the_api_answers_correctly_while_a_backlog_drains(stack):
    q = queue(stack)
    chains = [list(snapshots(seed, PER_CHAIN, u)) for seed, u in enumerate(CHAINS, start=30)]
    for docs in zip(*chains):  # all enqueued before the first answer: a backlog, as after an edge outage
        for d in docs:
            q.send_message(encode_compact(orjson.dumps(d)))
    answers, during = 0, 0
    deadline = time.monotonic() + 300
    with httpx.Client(timeout=60, headers={"x-functions-key": stack.function_key}) as http:
        while not applied(http, stack):
            assert time.monotonic() < deadline, "the backlog did not drain within 300 s"
            health = http.get(f"{stack.api}/health")
            assert (health.status_code, health.json()["status"]) == (200, "ok")
            page = http.get(f"{stack.api}/anomalies", params={"underlying": "SPY", "limit": 20, **WINDOW})
            assert page.status_code == 200 and page.json()["count"] == len(page.json()["items"]) <= 20
            assert all(a["underlying"] == "SPY" for a in page.json()["items"])
            answers += 1
            during += q.get_queue_properties().approximate_message_count > 0
        assert during >= 1, "no answer came while the backlog was still queued"
        final = http.get(f"{stack.api}/anomalies", params={"underlying": "SPY", "limit": 5, **WINDOW}).json()
    assert final["items"] and answers >= during
