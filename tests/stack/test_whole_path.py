"""The whole path on real local components: snapshot -> queue -> Functions host -> tables, API, SignalR.

Azurite (npm), the local SignalR service, the local Functions host on the real
azure-functions library, and a SignalR client over a real WebSocket.
"""

from __future__ import annotations

import asyncio
import base64
import time

import httpx
import orjson
import pytest
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devstack.azurite import Azurite
from devstack.listen import subscribe
from devstack.signalr import send
from devstack.stack import LocalStack
from spyglass.wire.queue import encode_compact
from tests.spyglass.chainkit import T0, ChainKit
from tests.spyglass.detect.test_rules import shift

pytestmark = pytest.mark.xdist_group("stack")  # one stack per worker, not one per test


@pytest.fixture(scope="module")
def stack():
    # on disk, so it survives a restart; the app's clock three hours after the test data starts
    with LocalStack(azurite=Azurite(), clock_start="2026-11-24T20:00:00Z") as s:
        yield s


def queue(stack: LocalStack, name: str = "chain-snapshots") -> QueueClient:
    q = QueueClient.from_connection_string(stack.storage_connection, name,
                                           message_encode_policy=TextBase64EncodePolicy())
    try:
        q.create_queue()
    except Exception:  # noqa: BLE001 - exists
        pass
    return q


def snapshots(seed: int, seconds: int, underlying: str = "SPY", start=T0):
    kit = ChainKit(seed=seed, underlying=underlying)
    events = {s: shift("C", 602, 0.12, kit) for s in range(10, seconds)}
    for n, snap in enumerate(kit.stream(start, seconds, events)):
        d = snap.to_dict()
        d["seq"] = n
        yield d


def api(stack: LocalStack, path: str, key: bool = True, **params) -> httpx.Response:
    headers = {"x-functions-key": stack.function_key} if key else {}
    return httpx.get(f"{stack.api}/{path}", params=params, headers=headers, timeout=10)


def wait_for(predicate, timeout: float = 30.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not true within {timeout} s")


def test_snapshots_become_anomalies_on_the_api_and_over_signalr(stack):
    received: list[tuple[str, dict]] = []

    async def listen_then_feed():
        async def collect():
            async for target, args in subscribe(stack.api, stack.function_key):
                received.append((target, args[0]))
                if any(t == "anomaly" and a["type"] == "mispricing" and a["underlying"] == "QQQ"
                       for t, a in received):
                    return

        task = asyncio.create_task(collect())
        await asyncio.sleep(1.0)  # connected before the first message
        q = queue(stack)
        for d in snapshots(3, 16, "QQQ"):
            q.send_message(encode_compact(orjson.dumps(d)))
        await asyncio.wait_for(task, 60)

    asyncio.run(listen_then_feed())
    assert {"chain", "anomaly"} <= {t for t, _ in received}
    pushed = {a["id"] for t, a in received if t == "anomaly"}
    onset = wait_for(lambda: [a for a in api(stack, "anomalies", underlying="QQQ", since="2026-11-24T00:00:00Z",
                                               until="2026-11-24T23:59:59Z").json()["items"]
                              if a["type"] == "mispricing" and a["evidence"]["state"] == "new"])
    assert len(onset) == 1 and onset[0]["id"] in pushed and onset[0]["strike"] == 602.0
    assert wait_for(lambda: api(stack, "chain/latest", underlying="QQQ").json().get("ts") == "2026-11-24T17:00:15.000Z")


def test_the_same_message_twice_gives_one_anomaly_and_order_is_restored(stack):
    q = queue(stack)
    msgs = [encode_compact(orjson.dumps(d)) for d in snapshots(5, 14, "IWM")]
    order = list(range(len(msgs)))
    order[5], order[6] = order[6], order[5]  # out of order
    for i in order + [11, 12, 12]:  # and twice
        q.send_message(msgs[i])
    got = wait_for(lambda: api(stack, "chain/latest", underlying="IWM").status_code == 200
                   and api(stack, "chain/latest", underlying="IWM").json()["seq"] == 13, timeout=60)
    assert got
    items = api(stack, "anomalies", underlying="IWM", type="mispricing", since="2026-11-24T00:00:00Z",
                until="2026-11-24T23:59:59Z").json()["items"]
    new = [a for a in items if a["evidence"]["state"] == "new"]
    assert len(new) == 1 and new[0]["strike"] == 602.0


def test_api_requires_the_key_and_rejects_injection(stack):
    assert api(stack, "anomalies", key=False).status_code == 401
    assert api(stack, "health", key=False).status_code == 200
    r = api(stack, "anomalies", type="mispricing' or '1' eq '1")
    assert r.status_code == 400 and "type must be one of" in r.json()["error"]["message"]
    doc = httpx.get(f"{stack.api}/openapi.json", timeout=10).json()
    assert doc["openapi"] == "3.1.0" and "/anomalies" in doc["paths"]


def test_malformed_message_ends_in_the_poison_queue(stack):
    q = queue(stack)
    q.send_message('{"schema":"chain-snapshot/1","underlying":"XLF"}')
    poison = queue(stack, "chain-snapshots-poison")
    msgs = wait_for(lambda: list(poison.peek_messages(max_messages=32)), timeout=60)
    texts = [base64.b64decode(m.content).decode() for m in msgs]
    assert '{"schema":"chain-snapshot/1","underlying":"XLF"}' in texts


def test_azurite_restart_mid_stream_loses_nothing(stack):
    q = queue(stack)
    data = list(snapshots(7, 20, "DIA"))
    for d in data[:10]:
        q.send_message(encode_compact(orjson.dumps(d)))
    wait_for(lambda: api(stack, "chain/latest", underlying="DIA").status_code == 200, timeout=60)
    stack.azurite.restart()
    for d in data[10:]:
        for attempt in range(50):  # the producer retries while storage comes back, as the edge spool does
            try:
                q.send_message(encode_compact(orjson.dumps(d)))
                break
            except Exception:  # noqa: BLE001
                time.sleep(0.2)
    assert wait_for(lambda: api(stack, "chain/latest", underlying="DIA").status_code == 200
                    and api(stack, "chain/latest", underlying="DIA").json()["seq"] == 19, timeout=90)
    first = api(stack, "chain", underlying="DIA", at="2026-11-24T17:00:00.500Z").json()
    assert first.get("seq") == 0, first


def test_outcomes_reach_the_table_the_api_and_signalr_and_redelivery_changes_none(stack):
    """C 601 rich for seconds 4-7 of a 40-second session, sent with a pair swapped and three messages twice:
    each horizon is announced once, stored on the alert, and equal to scoring the session in order in one
    process."""
    from spyglass.contract import Snapshot
    from spyglass.session import ScoringSession
    from tests.functions.test_outcomes import session_docs

    docs = [{**d, "underlying": "XLK"} for d in session_docs()]  # a chain no other test here feeds
    straight = ScoringSession()
    expected = [m.to_dict() for d in docs for m in straight.feed(Snapshot.from_dict(d)).outcomes]
    assert {m["horizon"] for m in expected} == {"5s", "30s"}
    received: list[dict] = []

    async def listen_then_feed():
        listening = asyncio.Event()

        async def collect():
            async for target, args in subscribe(stack.api, stack.function_key):
                if target == "chain" and args[0].get("underlying") == "PROBE":
                    listening.set()
                if target == "outcome" and args[0]["underlying"] == "XLK":
                    received.append(args[0])
                if len(received) >= len(expected):
                    await asyncio.sleep(3.0)  # anything announced twice would arrive by now
                    return

        task = asyncio.create_task(collect())
        q = queue(stack)
        msgs = [encode_compact(orjson.dumps(d)) for d in docs]
        order = list(range(len(msgs)))
        order[20], order[21] = order[21], order[20]
        deadline = time.monotonic() + 60
        while not listening.is_set():  # connected before anything it must not miss is sent: it hears a probe
            assert time.monotonic() < deadline, "the SignalR subscriber never connected"
            send(stack.signalr_connection, "spyglass", "chain", [{"underlying": "PROBE"}])
            try:
                await asyncio.wait_for(listening.wait(), 2.0)
            except asyncio.TimeoutError:
                pass
        for i in order[:12] + [4, 9, 9] + order[12:]:
            q.send_message(msgs[i])
        await asyncio.wait_for(task, 90)

    asyncio.run(listen_then_feed())
    assert sorted(received, key=lambda m: m["horizon"]) == sorted(expected, key=lambda m: m["horizon"])
    (alert_id,) = {m["anomaly_id"] for m in expected}
    stored = wait_for(lambda: (a := api(stack, f"anomalies/{alert_id}").json()).get("outcome", {}).keys() >= {"5s", "30s"}
                      and a)
    assert stored["outcome"] == {m["horizon"]: {k: m[k] for k in ("status", "ts", "mid", "exit", "reverted_s")}
                                 for m in expected}
