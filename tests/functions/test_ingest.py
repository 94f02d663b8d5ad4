"""Ingest's ordering against real Azurite, invocation by invocation: park, apply, gaps, late, clock, size.

Each test has its own chain (underlying), so they share one Azurite.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import orjson
import pytest

from functions import chainstate, drain, ordering, storage
from functions.settings import settings
from spyglass.contract import iso_ms
from spyglass.wire import tables
from spyglass.wire.queue import wake_message
from tests.functions.conftest import Out
from tests.functions.test_app import queue_message
from tests.spyglass.chainkit import T0, ChainKit

RUN = "20261124T170000Z-abcdef"


def docs(underlying: str, n: int, *, width: int = 15, session: str | None = RUN, spot: float = 600.0) -> list[dict]:
    kit = ChainKit(seed=2, underlying=underlying, width=width, spot=spot)
    out = []
    for k, snap in enumerate(kit.stream(T0, n)):
        d = snap.to_dict() | {"seq": k}
        if session:
            d["session"] = session
        out.append(d)
    return out


def send(app, d: dict | str) -> list[dict]:
    """One invocation; the SignalR messages it published."""
    out = Out()
    app["ingest"](queue_message(d if isinstance(d, str) else orjson.dumps(d).decode()), out)
    return orjson.loads(out.value or "[]")


def chains(published: list[dict]) -> list[int]:
    return [m["arguments"][0]["seq"] for m in published if m["target"] == "chain"]


def history(u: str) -> dict[str, dict]:
    rows = storage.table("chainstate").query_entities("PartitionKey eq @pk and RowKey lt ':'",
                                                      parameters={"pk": f"{u}-20261124"})
    return {iso_ms(e["ts"]): e for e in rows}


def data_errors(u: str, subtype: str) -> list[dict]:
    rows = storage.table("anomalies").query_entities("underlying eq @u and type eq 'data_error'", parameters={"u": u})
    return [orjson.loads(e["evidence"]) for e in rows if orjson.loads(e["evidence"])["subtype"] == subtype]


def wakes() -> list[dict]:
    """Wake messages waiting on the queue (taken off it, as the host would)."""
    found = []
    for m in storage.queue("chain-snapshots").receive_messages(max_messages=32, visibility_timeout=1):
        found.append(orjson.loads(base64.b64decode(m.content)))
        storage.queue("chain-snapshots").delete_message(m)
    return found


@pytest.fixture
def quick_gaps(monkeypatch):
    monkeypatch.setattr(ordering, "GAP_WAIT_S", 0.3)


def test_a_snapshot_after_a_gap_is_parked_and_applied_when_its_predecessor_comes(app):
    d = docs("PRK", 4)
    assert chains(send(app, d[0])) == [0]
    assert send(app, d[2]) == []  # seq 1 is missing: parked, acknowledged, nothing published
    assert chainstate.parked(storage.table("chainstate"), "PRK", "2026-11-24")[0].seq == 2
    assert chains(send(app, d[1])) == [1, 2]  # its predecessor takes it along, in order
    assert chains(send(app, d[3])) == [3]
    assert chainstate.parked(storage.table("chainstate"), "PRK", "2026-11-24") == []
    assert not any(r.get("late") for r in history("PRK").values()) and len(history("PRK")) == 4


def test_a_gap_is_declared_missing_at_its_deadline_even_if_nothing_else_arrives(app, quick_gaps):
    import time

    d = docs("GAP", 6)
    send(app, d[0])
    assert send(app, d[2]) == []
    time.sleep(1.2)  # past the deadline (0.3 s here, 3 s in production; a wake is delayed whole seconds)
    [wake] = [w for w in wakes() if w.get("underlying") == "GAP"]  # sent with the deadline as its delay
    published = send(app, wake_message("GAP", "2026-11-24"))
    assert chains(published) == [2]
    [gap] = data_errors("GAP", "missing")
    assert (gap["session"], gap["first_seq"], gap["last_seq"]) == (RUN, 1, 1) and "went on" in gap["summary"]
    assert send(app, d[1]) == []  # it arrives after all: stored, marked late, not published as the chain
    row = history("GAP")[d[1]["ts"]]
    assert "moved past it" in row["late"]
    assert send(app, d[1]) == [] and send(app, d[2]) == []  # redeliveries: nothing new
    assert chains(send(app, d[3])) == [3]
    stored = chainstate.load(storage.table("chainstate"), "GAP", "2026-11-24")
    assert stored.counts == {"late": 1, "missing": 1} and stored.cursor.seq == 3


def test_a_busy_chain_never_makes_an_invocation_wait(app, monkeypatch):
    monkeypatch.setattr(drain, "WATCHDOG_S", 0)  # 5 s in production
    d = docs("BSY", 3)
    send(app, d[0])
    box = drain._states.mailbox("BSY", "2026-11-24")
    assert box.enter()  # another invocation of this process is draining the chain
    try:
        assert send(app, d[1]) == []  # parked at once; the drainer is told
        assert box.take_knock()
    finally:
        box.release()
    assert {w.get("underlying") for w in wakes()} >= {"BSY"}  # a watchdog in case the drainer dies
    assert chains(send(app, wake_message("BSY", "2026-11-24"))) == [1]
    assert chains(send(app, d[2])) == [2]


def test_a_restarted_producer_starts_a_new_run_and_loses_nothing(app, quick_gaps):
    import time

    old, new = docs("RST", 5), docs("RST", 12, session="20261124T170010Z-fedcba")[8:]
    new = [{**x, "seq": k} for k, x in enumerate(new)]  # a new run: seq from 0, later times
    for x in old[:3]:
        send(app, x)
    assert send(app, new[0]) == []  # the old run may still have snapshots in flight: wait for them
    assert chains(send(app, old[3])) == [3]  # one does: applied first, in order
    time.sleep(0.4)
    assert chains(send(app, new[1])) == [0, 1]  # no more of the old run: the new one goes on
    assert send(app, old[4]) == []  # the old run's last, after the switch: late, stored
    assert "late" in history("RST")[old[4]["ts"]]
    assert data_errors("RST", "missing") == [] and data_errors("RST", "out_of_order") == []


def test_a_snapshot_stamped_far_from_now_is_a_clock_error_and_never_moves_the_chain(app):
    d = docs("CLK", 4)
    send(app, d[0])
    now = settings().now()
    ahead = {**d[1], "ts": iso_ms(now + timedelta(minutes=10))}
    published = send(app, ahead)
    assert [m["arguments"][0]["evidence"]["subtype"] for m in published] == ["clock_skew"]
    assert chains(send(app, d[2])) == [2]  # its seq is filled: no gap, no wait
    ancient = {**d[3], "ts": "1900-01-01T15:00:00.000Z"}
    assert [m["arguments"][0]["evidence"]["subtype"] for m in send(app, ancient)] == ["clock_skew"]
    skews = data_errors("CLK", "clock_skew")
    assert len(skews) == 2 and {s["snapshot_ts"] for s in skews} == {ahead["ts"], ancient["ts"]}
    assert "ahead of the receiver's clock" in sorted(s["summary"] for s in skews)[1]
    stored = chainstate.load(storage.table("chainstate"), "CLK", "2026-11-24")
    assert stored.cursor.seq == 3 and iso_ms(stored.state.last_ts) == d[2]["ts"]
    assert set(history("CLK")) == {d[0]["ts"], d[2]["ts"]}


def test_five_thousand_contracts_are_stored_and_read_back(app):
    d = docs("BIG", 2, width=1249, session=None, spot=3000.0)  # 2 x 2,499 strikes: 4,998 contracts
    assert len(d[0]["contracts"]) > 4990
    send(app, d[0])
    assert chains(send(app, d[1])) == [1]
    row = history("BIG")[d[1]["ts"]]
    assert tables.entity_analytics(row)["ts"] == d[1]["ts"]
    stored = chainstate.load(storage.table("chainstate"), "BIG", "2026-11-24")
    assert len(stored.state.series.strike) > 4990


def test_values_above_a_property_limit_are_split_and_joined(app):
    import os

    table, blob = storage.table("chainstate"), os.urandom(300_000)  # incompressible: five 64 KiB properties
    table.upsert_entity(tables.put_bytes({"PartitionKey": "t", "RowKey": "split"}, "data", blob))
    row = table.get_entity("t", "split")
    assert "data_4" in row and "data_5" not in row and tables.get_bytes(row, "data") == blob


def test_a_big_plain_json_snapshot_after_a_gap_is_parked_not_poisoned(app):
    d = docs("PLN", 3, width=90)
    text = [orjson.dumps(x).decode() for x in d]
    assert len(text[2]) > 40_000  # a held envelope of the old design would not fit in a queue message
    send(app, text[0])
    assert send(app, text[2]) == []
    assert chains(send(app, text[1])) == [1, 2]


def test_a_feed_going_back_in_time_within_its_run_is_a_data_error_that_keeps_the_seq_moving(app):
    d = docs("BCK", 3)
    send(app, d[0])
    send(app, d[1])
    back = {**d[2], "ts": iso_ms(T0 + timedelta(milliseconds=500))}  # seq 2, stamped between seq 0 and 1
    published = send(app, back)
    assert [m["arguments"][0]["evidence"]["subtype"] for m in published] == ["out_of_order"]
    nxt = {**docs("BCK", 4)[3], "seq": 3}
    assert chains(send(app, nxt)) == [3]  # no gap: seq 2 was taken in its turn
    stored = chainstate.load(storage.table("chainstate"), "BCK", "2026-11-24")
    assert stored.cursor.seq == 3 and data_errors("BCK", "missing") == []
