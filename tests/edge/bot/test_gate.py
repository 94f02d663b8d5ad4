"""The market's gate: a rule type trades only while its trailing markouts are positive with confidence."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from edge.bot import audit
from edge.bot.app import Bot
from edge.bot.audit import AuditLog
from edge.bot.gate import GateSettings, judge
from edge.bot.ledger import Ledger
from edge.bot.settings import BotSettings, SettingsError
from tests.edge.bot.signals import mispricing

G = GateSettings(horizon="5m", min_alerts=4, confidence=0.9, window=6)


def test_the_gate_needs_enough_alerts_and_a_positive_lower_bound():
    assert not judge("mispricing", [9.0, 9.0, 9.0], G).open  # three alerts, four needed
    shut = judge("mispricing", [9.0, -8.0, 7.0, -6.0], G)
    assert not shut.open and shut.mean == pytest.approx(0.5) and shut.lower < 0 and "not proven" in shut.reason
    # mean 6, sample sd 1.826, lower = 6 - 1.2816 x 1.826 / 2 = 4.83
    ok = judge("mispricing", [4.0, 5.0, 7.0, 8.0], G)
    assert ok.open and ok.lower == pytest.approx(6 - 1.2815516 * 1.8257419 / 2, abs=1e-6)


def test_the_trailing_window_forgets_the_old_alerts(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    for n in range(10):  # four old winners, then six recent losers
        ledger.record_markout(f"a{n}", "5m", "mispricing", f"2026-11-24T15:00:{n:02d}.000Z", 9.0 if n < 4 else -2.0)
    assert ledger.trailing_markouts("mispricing", "5m", G.window) == [-2.0] * 6
    assert not ledger.record_markout("a9", "5m", "mispricing", "2026-11-24T15:00:09.000Z", 50.0)  # a redelivery


def bot(tmp_path, mode: str) -> Bot:
    s = BotSettings(mode=mode, api="http://unused", function_key="k", state_dir=tmp_path, gate=G,
                    kill_switch_file=tmp_path / "kill")
    return Bot(s, object() if mode != "shadow" else None, Ledger(s.ledger_path), AuditLog(s.audit_path, s.mode),
               clock=lambda: datetime(2026, 11, 24, 15, 0, 5, tzinfo=timezone.utc))


def outcome(n: int, mid: float, horizon: str = "5m", status: str = "ok") -> dict:
    return {"anomaly_id": f"a{n}", "underlying": "SPY", "alert_ts": f"2026-11-24T14:00:{n:02d}.000Z",
            "type": "mispricing", "severity": "high", "horizon": horizon, "status": status, "mid": mid}


def signal() -> dict:
    return mispricing("cheap", "C", 600.0, bid=1.0, ask=1.02, fair=1.2,
                      ts=datetime(2026, 11, 24, 15, 0, 4, tzinfo=timezone.utc))


def test_a_paper_bot_skips_an_unproven_type_and_says_why(tmp_path):
    b = bot(tmp_path, "paper")
    record = asyncio.run(b.handle(signal(), "signalr"))
    assert record["event"] == "skipped" and record["reason"].startswith("market gate closed: mispricing has 0 graded")
    assert record["gate"] == {"type": "mispricing", "horizon": "5m", "n": 0, "mean": None, "lower": None,
                              "open": False, "reason": record["gate"]["reason"]}


def test_outcomes_open_the_gate_and_each_is_audited_once(tmp_path):
    b = bot(tmp_path, "paper")
    for n, mid in enumerate((4.0, 5.0, 7.0, 8.0)):
        b.outcome(outcome(n, mid))
    b.outcome(outcome(3, 8.0))  # redelivered
    b.outcome(outcome(9, -50.0, horizon="30s"))  # another horizon than the gate's
    b.outcome(outcome(8, -50.0, status="missing"))
    b.outcome({"horizon": "5m", "status": "ok"})  # malformed: ignored, never raised
    records = [r for r in audit.read(tmp_path / "audit.jsonl") if r["event"] == "outcome"]
    assert [r["gate"]["open"] for r in records] == [False, False, False, True]
    assert b.gate("mispricing").open and not b.gate("parity").open  # each type earns its own trust
    # the ledger keeps them: a restarted bot has the same gate
    again = bot(tmp_path, "paper")
    assert again.gate("mispricing") == b.gate("mispricing")


def test_shadow_is_never_gated_but_records_the_gate(tmp_path):
    record = asyncio.run(bot(tmp_path, "shadow").handle(signal(), "signalr"))
    assert not record["reason"].startswith("market gate") and record["gate"]["open"] is False


@pytest.mark.parametrize("env", [{"SPYGLASS_BOT_GATE_HORIZON": "10m"}, {"SPYGLASS_BOT_GATE_CONFIDENCE": "1"},
                                 {"SPYGLASS_BOT_GATE_MIN_ALERTS": "50", "SPYGLASS_BOT_GATE_WINDOW": "20"}])
def test_a_gate_that_cannot_work_refuses_to_start(env):
    with pytest.raises(SettingsError, match="GATE_HORIZON|market gate"):
        BotSettings.from_env(env)
