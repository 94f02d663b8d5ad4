"""The bot's decision loop: one signal in, one audited decision out. Serialised, deduplicated, never crashes on data.

Order of work for each signal (live over SignalR or from catch-up):
parse -> claim the id (dedupe, persisted) -> kill switch / TTL / expiry /
trading window -> quotes of the legs -> rule -> size limits -> audit the
decision -> shadow: record only; paper/live: place with ``orderRef`` = id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Protocol

from prometheus_client import Counter

from edge.bot import gate, risk, rules
from edge.bot.audit import AuditLog
from edge.bot.ledger import DEAD, Ledger
from edge.bot.settings import BotSettings
from spyglass.clock import NEW_YORK
from spyglass.contract import Anomaly

log = logging.getLogger("spyglass.bot")
FACET_AUDIT = ("type", "rule", "severity", "score", "edge", "summary")  # what the audit keeps of each facet
DECISIONS = Counter("spyglass_bot_decisions", "Signals decided, by outcome (shadow, placed, skipped, duplicate...)",
                    ["event"])


class Broker(Protocol):
    async def quotes(self, expiry: Any, wanted: list[tuple[str, float]]) -> dict[tuple[str, float], rules.Quote]: ...

    async def place(self, signal: Anomaly, plan: rules.Plan, quantity: int) -> dict[str, Any]: ...


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Bot:
    def __init__(self, settings: BotSettings, broker: Broker | None, ledger: Ledger, audit: AuditLog,
                 clock: Callable[[], datetime] = _utcnow, kill_file_exists: Callable[[], bool] | None = None) -> None:
        if settings.mode in ("paper", "live") and broker is None:
            raise ValueError(f"mode {settings.mode} needs a broker")
        self.settings, self.broker, self.ledger, self.audit, self.clock = settings, broker, ledger, audit, clock
        self._kill_exists = kill_file_exists or settings.kill_switch_file.exists
        self._lock = asyncio.Lock()

    async def handle(self, raw: Any, source: str) -> dict[str, Any]:
        """Decide on one signal; returns the audit record of the decision."""
        async with self._lock:
            try:
                record = await self._handle(raw, source)
            except Exception as exc:  # a bug or a broker failure must not stop the next signal
                log.exception("signal handling failed")
                sid = raw.get("id") if isinstance(raw, dict) else None
                record = self.audit.write("error", source=source, signal_id=sid,
                                          reason=f"{type(exc).__name__}: {exc}")
            DECISIONS.labels(record["event"]).inc()
            return record

    async def _handle(self, raw: Any, source: str) -> dict[str, Any]:
        s = self.settings
        try:
            if not isinstance(raw, dict) or raw.get("schema") != "anomaly/1":
                raise ValueError("not an anomaly/1 object")
            signal = Anomaly.from_dict(raw)
        except (KeyError, TypeError, ValueError) as exc:
            sid = raw.get("id") if isinstance(raw, dict) else None
            return self.audit.write("rejected", source=source, signal_id=sid, reason=f"malformed signal: {exc}")
        now = self.clock()
        base = {"source": source, "signal_id": signal.id, "type": signal.type, "right": signal.right,
                "strike": signal.strike, "signal_ts": signal.ts}
        if signal.facets:  # an incident: traded by its primary type; the other faces are on the record
            base["facets"] = [{k: f.get(k) for k in FACET_AUDIT} for f in signal.facets]
        if not self.ledger.claim(signal.id, signal.ts, now):
            return self.audit.write("duplicate", **base, reason="already handled")
        self.ledger.advance_mark(signal.ts)
        if s.mode == "off":
            return self.audit.write("skipped", **base, reason="bot is paused (mode off)")
        kill = risk.kill_switch(s.kill_switch, self._kill_exists)
        reason = risk.check_signal(signal, now, s.limits, kill)
        if reason:
            return self.audit.write("skipped", **base, reason=reason)
        g = self.gate(signal.type)
        base["gate"] = g.to_dict()
        if s.mode in ("paper", "live") and not g.open:
            return self.audit.write("skipped", **base, reason=f"market gate closed: {g.reason}")
        wanted = rules.quotes_needed(signal, s.wing_width)
        quotes = await self.broker.quotes(signal.expiry, wanted) if (self.broker and wanted) else {}
        plan = rules.plan(signal, lambda r, k: quotes.get((r, float(k))), s.wing_width, s.limits.min_edge)
        if isinstance(plan, rules.Skip):
            return self.audit.write("skipped", **base, reason=plan.reason)
        day = now.astimezone(NEW_YORK).date()
        reason = risk.check_plan(plan, s.quantity, s.limits, self.ledger.book(day, shadow=s.mode == "shadow"))
        if reason:
            return self.audit.write("skipped", **base, reason=reason, plan=plan.to_dict())
        self.audit.write("decided", **base, quantity=s.quantity, plan=plan.to_dict())
        if s.mode == "shadow":
            self.ledger.record_order(signal.id, day, plan.structure, s.quantity, plan.limit, plan.max_loss,
                                     "Shadow", None)
            return self.audit.write("shadow", **base, quantity=s.quantity, plan=plan.to_dict(),
                                    reason="shadow mode: logged, not sent")
        assert self.broker is not None
        placed = await self.broker.place(signal, plan, s.quantity)
        self.ledger.record_order(signal.id, day, plan.structure, s.quantity, plan.limit, plan.max_loss,
                                 placed["status"], placed.get("order_id"))
        event = ("already_placed" if placed.get("existing") else
                 "refused" if placed["status"] in DEAD else "placed")
        return self.audit.write(event, **base, quantity=s.quantity, plan=plan.to_dict(), order=placed)

    def gate(self, type_: str) -> gate.GateState:
        """The market's verdict on a rule type now: its trailing markouts at the configured horizon."""
        g = self.settings.gate
        return gate.judge(type_, self.ledger.trailing_markouts(type_, g.horizon, g.window), g)

    def outcome(self, raw: Any) -> None:
        """One horizon of an alert's outcome (SignalR target ``outcome``): kept when it is the gate's horizon."""
        try:
            if raw["horizon"] != self.settings.gate.horizon or raw["status"] != "ok":
                return
            fresh = self.ledger.record_markout(str(raw["anomaly_id"]), raw["horizon"], str(raw["type"]),
                                               str(raw["alert_ts"]), float(raw["mid"]))
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("malformed outcome ignored: %s", exc)
            return
        if fresh:
            state = self.gate(str(raw["type"]))
            self.audit.write("outcome", signal_id=raw["anomaly_id"], type=raw["type"], horizon=raw["horizon"],
                             mid=raw["mid"], gate=state.to_dict())

    def order_status(self, signal_id: str, status: str, filled: float, avg_price: float) -> None:
        """Broker callback: keep the ledger's book current and audit the change."""
        self.ledger.update_status(signal_id, status)
        self.audit.write("order_status", signal_id=signal_id, status=status, filled=filled, avg_price=avg_price)
