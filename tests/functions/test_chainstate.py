"""Per-chain state under scale-out: remembered states may be stale, the ETag keeps them honest.

Two "instances" (two state caches, as two processes would hold) take turns on one chain; what
they publish and store must equal one process scoring the stream in order.
"""

from __future__ import annotations

import orjson
import pytest

from functions import chainstate, drain, storage
from functions.chainstate import StateCache
from spyglass.contract import Snapshot, parse_iso
from spyglass.session import ScoringSession
from tests.functions.conftest import Out
from tests.functions.test_app import queue_message
from tests.spyglass.chainkit import T0, ChainKit
from tests.spyglass.detect.test_rules import shift


def stream(underlying: str, seconds: int = 40) -> list[dict]:
    kit = ChainKit(seed=4, underlying=underlying)
    events = {s: shift("P", 598, 0.15, kit) for s in range(12, 30)}
    out = []
    for n, snap in enumerate(kit.stream(T0, seconds, events)):
        d = snap.to_dict()
        d["seq"] = n
        out.append(d)
    return out


@pytest.fixture
def instances(monkeypatch):
    """Two state caches; ``use(i)`` makes ingest run as instance ``i``."""
    caches = [StateCache(), StateCache()]

    def use(i: int) -> None:
        monkeypatch.setattr(drain, "_states", caches[i])

    return use


def published_anomalies(app, docs: list[dict], instance_of) -> list[dict]:
    found = []
    for n, d in enumerate(docs):
        instance_of(n)
        out = Out()
        app["ingest"](queue_message(orjson.dumps(d).decode(), n), out)
        found += [m["arguments"][0] for m in orjson.loads(out.value or "[]") if m["target"] == "anomaly"]
    return found


def test_alternating_instances_publish_what_one_in_order_process_finds(app, instances):
    docs = stream("QQQ")
    got = published_anomalies(app, docs, lambda n: instances(n % 2))
    session = ScoringSession()
    expected = [a for d in docs for a in session.feed(Snapshot.from_dict(d)).anomalies]
    assert expected, "the stream must contain anomalies for this test to mean anything"
    assert [a["id"] for a in got] == [a.id for a in expected]
    stored = chainstate.load(storage.table("chainstate"), "QQQ", docs[0]["expiry"])
    assert stored.state.last_seq == len(docs) - 1 and stored.outbox is None


def test_a_stale_remembered_state_costs_a_retry_not_a_wrong_answer(app, instances):
    docs = stream("IWM", 16)
    instances(0)
    published_anomalies(app, docs[:8], lambda n: instances(0))  # instance 0 remembers seq 7
    published_anomalies(app, docs[8:12], lambda n: instances(1))  # instance 1 moves the chain to seq 11
    out = Out()
    instances(0)
    app["ingest"](queue_message(orjson.dumps(docs[12]).decode(), 12), out)  # 0's memory says seq 7
    chain = [m["arguments"][0] for m in orjson.loads(out.value) if m["target"] == "chain"]
    assert [c["seq"] for c in chain] == [12]
    assert chainstate.load(storage.table("chainstate"), "IWM", docs[0]["expiry"]).state.last_seq == 12


def test_a_purged_state_entity_is_recreated(app, instances):
    docs = stream("DIA", 6)
    published_anomalies(app, docs[:3], lambda n: instances(0))
    table = storage.table("chainstate")
    partition = chainstate.chain_partition("DIA", docs[0]["expiry"])
    table.delete_entity(partition, chainstate.STATE_ROW)  # e.g. the retention timer
    d = {k: v for k, v in docs[3].items() if k != "seq"}  # without seq: a new chain applies it at once
    out = Out()
    app["ingest"](queue_message(orjson.dumps(d).decode(), 3), out)  # the remembered ETag's entity is gone
    assert any(m["target"] == "chain" for m in orjson.loads(out.value))
    assert chainstate.load(table, "DIA", docs[0]["expiry"]).state.last_ts == parse_iso(docs[3]["ts"])


def test_a_chain_has_one_drainer_per_process_and_nobody_waits_for_it():
    import threading

    cache = StateCache()
    box = cache.mailbox("SPY", "2026-11-24")
    assert box.enter() and not box.enter()  # taken: a second invocation does not wait
    assert cache.mailbox("QQQ", "2026-11-24").enter()  # other chains are not held up
    box.knock()  # ... it parks its snapshot and knocks instead
    assert box.take_knock() and not box.take_knock()
    assert not box.leave()  # nobody knocked since: the turn is free
    assert box.enter()
    knocked = threading.Thread(target=box.knock)
    knocked.start()
    knocked.join()
    assert box.leave()  # knocked while held: the drainer takes the turn again and looks once more
    assert not box.enter()
    box.take_knock()
    assert not box.leave()
