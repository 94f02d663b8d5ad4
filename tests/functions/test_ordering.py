from datetime import timedelta

from functions.ordering import HOLD_SECONDS, decide
from spyglass.detect.state import ChainState
from tests.spyglass.chainkit import T0, ChainKit


def snap(seconds: int, seq: int | None):
    s = ChainKit().snapshot(T0 + timedelta(seconds=seconds))
    return s.__class__(**{**{f: getattr(s, f) for f in s.__slots__}, "seq": seq})


def state(seconds: int, seq: int | None) -> ChainState:
    return ChainState("SPY", "2026-11-24", last_ts=T0 + timedelta(seconds=seconds), last_seq=seq)


NOW = T0 + timedelta(seconds=100)


def test_first_and_next_in_order_are_applied():
    assert decide(snap(0, 0), None, None, NOW).action == "apply"
    assert decide(snap(0, None), None, None, NOW).action == "apply"
    assert decide(snap(1, 1), state(0, 0), None, NOW).action == "apply"


def test_a_gap_is_held_then_declared_lost():
    assert decide(snap(3, 3), state(1, 1), None, NOW).action == "hold"
    assert decide(snap(3, 3), state(1, 1), NOW - timedelta(seconds=1), NOW).action == "hold"
    late = decide(snap(3, 3), state(1, 1), NOW - timedelta(seconds=HOLD_SECONDS + 0.1), NOW)
    assert late.action == "apply" and "declared lost" in late.reason


def test_redelivery_and_given_up_snapshots_are_skipped():
    assert decide(snap(1, 1), state(1, 1), None, NOW).action == "skip"
    assert decide(snap(0, 0), state(5, 5), None, NOW).action == "skip"


def test_a_new_edge_session_restarting_seq_is_applied():
    assert decide(snap(10, 0), state(9, 500), None, NOW).action == "apply"


def test_feed_going_back_in_time_is_scored_as_a_data_error():
    assert decide(snap(1, 7), state(5, 6), None, NOW).action == "score"
    assert decide(snap(5, None), state(5, None), None, NOW).action == "score"


def test_a_new_chain_starting_mid_sequence_waits_for_earlier_snapshots_then_applies():
    assert decide(snap(3, 3), None, None, NOW).action == "hold"
    assert decide(snap(3, 3), None, NOW - timedelta(seconds=HOLD_SECONDS + 0.1), NOW).action == "apply"
