"""Markouts through the scorer: tracked in the chain's state, once per horizon, across restarts and redeliveries."""

from __future__ import annotations

from datetime import timedelta

from spyglass.contract import Snapshot
from spyglass.detect.state import ChainState
from spyglass.session import ScoringSession
from tests.spyglass.chainkit import CLOSE, T0, ChainKit


def rich_call_day(seconds: int = 45) -> list[Snapshot]:
    """C 601 quoted 10 cents rich from second 5 to 8, then back at fair."""
    kit = ChainKit(seed=4)
    i = kit.index("C", 601)

    def rich(q, *_):
        q["bid"][i] += 0.10
        q["ask"][i] += 0.10

    return list(kit.stream(T0, seconds, {s: {"mutate": rich} for s in range(5, 9)}))


def score(snaps, session=None):
    session = session or ScoringSession()
    alerts, outcomes = [], []
    for s in snaps:
        r = session.feed(s)
        alerts += r.anomalies
        outcomes += r.outcomes
    return session, alerts, outcomes


def test_a_rich_quote_that_came_back_earns_its_edge_at_each_horizon():
    _, alerts, outcomes = score(rich_call_day())
    (alert,) = [a for a in alerts if a.type == "mispricing" and a.evidence["state"] == "new"]
    assert alert.evidence["trade"] == [{"right": "C", "strike": 601.0, "qty": -1.0, "price": alert.evidence["bid"]}]
    marks = {m.horizon: m for m in outcomes if m.anomaly_id == alert.id}
    assert set(marks) == {"5s", "30s"}  # 2 and 5 minutes are still ahead
    for m in marks.values():
        assert m.status == "ok" and m.mid > 0 and m.exit > 0 and m.mid > m.exit
        assert 0 < m.reverted_s <= 5  # the quote came back to fair when the mutation ended
    assert marks["5s"].ts == (alert.ts + timedelta(seconds=5)).isoformat().replace("+00:00", ".000Z")


def test_a_restart_and_a_redelivery_change_no_outcome():
    snaps = rich_call_day()
    _, _, straight = score(snaps)
    first, _, before = score(snaps[:20])
    # a new process: the state comes back from its JSON; the last snapshot is delivered again
    restarted = ScoringSession()
    restarted.states = {k: ChainState.from_dict(v.to_dict()) for k, v in first.states.items()}
    _, _, after = score([snaps[19], *snaps[20:]], restarted)
    assert before + after == straight


def test_the_close_settles_every_open_alert_at_its_spot():
    snaps = rich_call_day()
    session, alerts, _ = score(snaps)
    alert = next(a for a in alerts if a.type == "mispricing")
    after_close = Snapshot.from_dict({**snaps[-1].to_dict(), "ts": CLOSE.isoformat().replace("+00:00", "Z")})
    settled = session.feed(after_close).outcomes
    (m,) = [m for m in settled if m.anomaly_id == alert.id and m.horizon == "settle"]
    strike, bid = 601.0, alert.evidence["bid"]
    assert m.mid == round(100 * (bid - max(after_close.spot - strike, 0.0)) - 0.65, 2)
    assert session.feed(after_close).outcomes == []  # settled once


def test_an_alert_past_its_last_horizon_waits_for_the_close_untouched():
    session, alerts, outcomes = score(rich_call_day(310))
    alert = next(a for a in alerts if a.type == "mispricing")
    assert [m.horizon for m in outcomes if m.anomaly_id == alert.id] == ["5s", "30s", "2m", "5m"]
    (state,) = session.states.values()
    assert state.tracked == [] and [d["anomaly_id"] for d in state.settling] == [alert.id]
    assert ChainState.from_dict(state.to_dict()).settling == state.settling
    (settled,) = session.close_day()
    assert (settled.anomaly_id, settled.horizon, settled.status) == (alert.id, "settle", "ok")
