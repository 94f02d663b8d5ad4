"""Issue 11's scenarios on the local stack, with small counts: nothing silently lost, order kept, no stalls.

Each scenario (``devstack/scenarios.py``) uses its own chains, so they share a stack. The outcome is
read from the stored rows alone (``devstack/ledger.py``), stalls included: the only time bound
asserted is the design's own, the gap deadline (``GAP_WAIT_S``) plus the one-second granularity of
a wake message's delay and a second of margin (and a second more where only the queue's insertion
time, truncated to the second, says when a snapshot was enqueued). The disruptive scenarios (a host killed, Azurite
killed, a collector killed) form their own xdist group, so the two groups run on two workers.
"""

from __future__ import annotations

import pytest

from devstack import scenarios
from devstack.ledger import Outcome
from functions import ordering
from spyglass.wire import queue as codec

# the gap deadline, plus up to 1 s because a wake message's delay is whole seconds, plus 1 s of margin
STALL_BOUND = ordering.GAP_WAIT_S + 2.0
SECOND = 1.0  # a collector's snapshots are timed by the queue's insertion time, truncated to the second
LEASE = 10.0  # the local host's message lease here; the runtime's is 10 minutes (docs/scale-out.md)


@pytest.fixture(scope="module")
def stack():
    with scenarios.stack(message_lease=LEASE) as s:
        yield s


def clean(o: Outcome, *, late: int = 0, stall: float = STALL_BOUND) -> None:
    """Nothing silently lost, at most ``late`` late, the rest applied in order, no stall past the bound."""
    assert not o.lost, f"{o.underlying}: silently lost {[(s.seq, s.ts) for s in o.lost]}"
    assert o.late <= late, o.line()
    assert o.stall_s <= stall, o.line()
    assert o.found == o.expected, o.line()


burst_group = pytest.mark.xdist_group("ingest-scenarios")
fault_group = pytest.mark.xdist_group("ingest-faults")


@burst_group
def test_a_burst_from_eight_senders_is_applied_in_order_and_another_chain_flows(stack):
    outcome = scenarios.burst(stack, n=150, senders=8, live_n=8, timeout=120)
    for o in outcome.values():
        clean(o)
        assert o.applied == o.sent and o.in_order >= 0.999, o.line()
    assert outcome["BRST"].expected > 10  # there were anomalies to find


@burst_group
def test_shuffled_arrivals_are_applied_in_order(stack):
    from concurrent.futures import ThreadPoolExecutor

    cases = {"SHF4": (32, 4, 0.5), "SHF10": (80, 10, 0.2)}  # shuffled within 4 at 0.5 s, within 10 at 0.2 s
    with ThreadPoolExecutor(2) as pool:  # side by side: two chains on one queue
        runs = {name: pool.submit(scenarios.shuffled, stack, n, window, spacing, name, timeout=90)
                for name, (n, window, spacing) in cases.items()}
    for name, run in runs.items():
        o = run.result()[name]
        clean(o)
        assert o.applied == o.sent == cases[name][0], o.line()


@burst_group
def test_six_producers_at_once_lose_nothing(stack):
    outcome = scenarios.load(stack, chains=6, n=30, timeout=120)
    assert len(outcome) == 6
    for o in outcome.values():
        clean(o)
        assert o.applied == o.sent == 30, o.line()


@burst_group
def test_bad_clocks_are_data_errors_that_never_move_the_chain(stack):
    outcome, latest = scenarios.clock(stack, n=30, spacing=0.1)
    clk, old = outcome["CLK"], outcome["OLD"]
    assert (clk.refused, clk.applied, len(clk.lost)) == (2, 28, 0), clk.line()  # +10 min and 1900 refused
    assert (old.refused, old.applied, len(old.lost)) == (1, 14, 0), old.line()  # a first snapshot from 1900
    assert clk.stall_s <= STALL_BOUND and old.stall_s <= STALL_BOUND
    assert all(ts and ts.startswith("2026-11-24") for ts in latest.values()), latest


@burst_group
def test_five_thousand_contracts_and_a_big_plain_snapshot_after_a_gap_are_stored(stack):
    outcome = scenarios.large(stack)
    for name, n in (("BIG", 4), ("PLN", 4)):
        o = outcome[name]
        assert o.applied == o.sent == n and o.poisoned == 0 and not o.lost, o.line()


@burst_group
def test_hostile_claim_checks_are_poisoned_with_a_reason_and_a_bomb_costs_little(stack):
    from azure.storage.blob import BlobServiceClient

    blobs = BlobServiceClient.from_connection_string(stack.storage_connection)

    def fetch(container: str, name: str, limit: int) -> bytes:
        return blobs.get_blob_client(container, name).download_blob(offset=0, length=limit + 1).readall()

    poisoned, grown = scenarios.bomb(stack, expand_mib=256)
    assert len(poisoned) == 3
    reasons = []
    for text in poisoned:  # why each failed, re-derived as the poison tools do
        with pytest.raises(codec.MessageError) as err:
            codec.decode(text, fetch)
        reasons.append(str(err.value))
    assert any("gzip bomb" in r for r in reasons)
    assert any("not the configured claim-check container" in r for r in reasons)
    assert any("not one the edge publisher writes" in r for r in reasons)
    assert grown < 8 * codec.MAX_SNAPSHOT_BYTES, f"host peak memory grew {grown / 2**20:.0f} MiB"


@fault_group
def test_a_host_killed_mid_burst_loses_nothing_and_its_leased_snapshots_come_back_late(stack):
    outcome, _ = scenarios.host_kill(stack, n=200, senders=8, kill_at=60, live_n=15, timeout=120)
    kill, live = outcome["KILL"], outcome["KLIV"]
    in_flight = 16 + 8 + 1  # batchSize + newBatchThreshold leased by the dead host, and one being applied
    clean(kill, late=in_flight)
    clean(live, late=in_flight)
    assert kill.applied + kill.late + kill.missing == kill.sent, kill.line()
    assert kill.applied >= kill.sent - in_flight, kill.line()


@fault_group
def test_a_collector_killed_and_restarted_starts_a_new_run_and_loses_nothing(stack):
    outcome, _, runs = scenarios.collector_restart(stack, per_run=10, timeout=90)
    o = outcome["COLL"]
    clean(o, stall=STALL_BOUND + SECOND)  # the new run waits GAP_WAIT_S for the old run's stragglers
    assert o.applied == o.sent and o.sent > 10, o.line()
    assert len(runs) == 2 and None not in runs  # two producer sessions, each stamped by its collector run


@fault_group
def test_azurite_killed_mid_stream_loses_nothing_in_silence(stack):
    # 8 s instead of the 30: what matters is the kill -9 (Azurite loses up to its last 5 s of
    # writes) and that the outage outlasts the publisher's back-off; a longer outage only spools more.
    o = scenarios.azurite_outage(stack, outage_s=8.0, before_s=4.0, after_s=4.0, timeout=120)["AZK"]
    clean(o, late=o.sent)  # what Azurite forgot comes back as declared gaps or late, never silently
    assert o.applied + o.late + o.missing == o.sent, o.line()
