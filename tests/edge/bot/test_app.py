"""The decision loop end to end with a quote table in place of the gateway (the gateway path is in
test_gateway_orders.py): every outcome is one audited record with its reason."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from edge.bot import audit
from edge.bot.app import Bot
from edge.bot.audit import AuditLog
from edge.bot.ledger import Ledger
from edge.bot.rules import Quote
from edge.bot.settings import BotSettings, RiskLimits
from tests.edge.bot.signals import NOW, arbitrage, chain_level, facet, incident, mispricing, parity

QUOTES = {("C", 600.0): Quote(1.00, 1.02), ("C", 601.0): Quote(0.60, 0.62), ("C", 602.0): Quote(0.3, 0.32),
          ("C", 603.0): Quote(0.1, 0.12)}


class QuoteTable:
    """Answers quotes from a dict; never places (shadow)."""

    async def quotes(self, expiry, wanted):
        return {k: QUOTES[k] for k in wanted if k in QUOTES}

    async def place(self, signal, plan, quantity):  # pragma: no cover - shadow never places
        raise AssertionError("shadow placed an order")


def make(tmp_path, mode="shadow", **limits):
    s = BotSettings(mode=mode, api="http://x", function_key="k", state_dir=tmp_path,
                    kill_switch_file=tmp_path / "kill", limits=RiskLimits(**limits))
    return Bot(s, QuoteTable(), Ledger(s.ledger_path), AuditLog(s.audit_path, mode), clock=lambda: NOW)


def handle(bot, *raws):
    async def go():
        return [await bot.handle(r, "test") for r in raws]
    return asyncio.run(go())


def test_shadow_logs_what_it_would_do(tmp_path):
    [rec] = handle(make(tmp_path), mispricing())
    assert rec["event"] == "shadow" and rec["plan"]["structure"] == "debit_vertical"
    assert [r["event"] for r in audit.read(tmp_path / "audit.jsonl")] == ["decided", "shadow"]


def test_off_is_paused(tmp_path):
    [rec] = handle(make(tmp_path, mode="off"), mispricing())
    assert rec["event"] == "skipped" and "paused" in rec["reason"]


def test_kill_file_stops_new_orders_at_once(tmp_path):
    bot = make(tmp_path)
    (tmp_path / "kill").touch()
    [rec] = handle(bot, mispricing())
    assert rec["reason"] == "kill switch is on"


def test_open_position_limit_applies_in_shadow_too(tmp_path):
    bot = make(tmp_path, max_open_positions=1)
    recs = handle(bot, mispricing(strike=600.0), mispricing(strike=601.0, ask=0.62, fair=0.9),
                  mispricing(strike=602.0, ts=NOW - timedelta(seconds=1), ask=0.32, fair=0.6))
    assert recs[0]["event"] == "shadow"
    assert recs[1]["event"] == "skipped" and "open positions" in recs[1]["reason"]
    assert "open positions" in recs[2]["reason"]


def test_daily_loss_budget(tmp_path):
    bot = make(tmp_path, max_open_positions=10, max_daily_loss=50.0)
    recs = handle(bot, mispricing(strike=600.0), mispricing(strike=601.0, ask=0.62, fair=0.9))
    assert recs[0]["event"] == "shadow"  # 43.30 at risk
    assert "daily limit" in recs[1]["reason"]


def test_stale_duplicate_malformed_and_unsupported(tmp_path):
    bot = make(tmp_path)
    stale = mispricing(ts=NOW - timedelta(minutes=5))
    recs = handle(bot, stale, stale, {"schema": "anomaly/1", "id": "x"}, "junk", parity(), arbitrage())
    assert recs[0]["reason"].startswith("stale")
    assert recs[1]["event"] == "duplicate"
    assert recs[2]["event"] == "rejected" and recs[2]["signal_id"] == "x"
    assert recs[3]["event"] == "rejected"
    assert "parity is not traded" in recs[4]["reason"]
    assert recs[5]["reason"].startswith("credit gone")  # live quotes no longer pay the credit


def test_an_incident_is_decided_by_its_primary_type_and_its_facets_are_on_the_record(tmp_path):
    rich = incident(mispricing(strike=600.0), facet("parity", 9.0, direction="put rich"),
                    facet("arbitrage", 4.0, kind="butterfly", legs=["C 599", "C 600", "C 601"], credit=0.05))
    [rec] = handle(make(tmp_path), rich)
    assert rec["event"] == "shadow" and rec["type"] == "mispricing" and rec["plan"]["structure"] == "debit_vertical"
    records = audit.read(tmp_path / "audit.jsonl")
    assert [r["event"] for r in records] == ["decided", "shadow"]  # one order for the one event
    for r in records:
        assert [(f["type"], f["rule"], f["edge"]) for f in r["facets"]] == [("parity", "parity.test", 9.0),
                                                                            ("arbitrage", "arbitrage.test", 4.0)]
        assert all(f["summary"] and f["severity"] == "high" for f in r["facets"])


def test_a_single_finding_has_no_facets_on_its_record_and_a_chain_level_one_is_skipped(tmp_path):
    bot = make(tmp_path)
    single, chain = handle(bot, mispricing(strike=600.0), chain_level())
    assert "facets" not in single and single["event"] == "shadow"
    assert chain["event"] == "skipped" and "chain-level" in chain["reason"] and chain["strike"] is None
