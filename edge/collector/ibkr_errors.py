"""How the ibkr source reacts to each IBKR error code (mixed into ``IbkrSource``).

Codes arrive on ib_async's ``errorEvent`` (reqId, code, message, contract), never as
exceptions; ``edge.collector.codes`` says what each means, this says what the collector does.
"""

from __future__ import annotations

import logging
from typing import Any

from edge.collector import metrics
from edge.collector.codes import Code, classify
from edge.collector.window import Line

log = logging.getLogger("edge.collector.ibkr")

UNDERLYING: Line = ("U", 0.0)


class ErrorHandling:
    """Expects the source's state: ``active``, ``budget``, ``listing``, ``mdt``, flags and ``errors``."""

    active: dict
    budget: int
    listing: Any
    mdt: int
    delayed: bool
    competing: bool
    ib_link: bool
    farm_ok: bool
    errors: list
    ticks: int
    competing_ticks: int
    _resubscribe_due: bool

    def _on_error(self, req_id: int, code: int, message: str, contract: Any = None) -> None:
        metrics.ERRORS.labels(code=str(code)).inc()
        self.errors.append((req_id, code))
        del self.errors[:-200]
        kind = classify(code)
        line = self._line_of(contract)
        if kind is Code.LINE_CAP:
            if line is not None:
                self.active.pop(line, None)
                opts = sum(1 for ln in self.active if ln != UNDERLYING)
                self.budget = max(0, min(self.budget, opts - opts % 2))
            log.warning("line refused by the gateway (101, max tickers): %s; option budget now %d", line, self.budget)
        elif kind is Code.NO_CONTRACT:
            if line is not None and line != UNDERLYING and self.listing is not None:
                self.active.pop(line, None)
                self.listing.drop(line)
            log.warning("gateway has no such contract (200): %s %s", line, message)
        elif kind is Code.NOT_SUBSCRIBED:
            if self.mdt in (1, 2):
                self.mdt = 3 if self.mdt == 1 else 4
                self._resubscribe_due = True
                log.warning("no live market data subscription (354): falling back to delayed data")
        elif kind is Code.DELAYED:
            if not self.delayed:
                log.warning("delayed market data (10167): snapshots are flagged delayed")
            self.delayed = True
            metrics.DELAYED_DATA.set(1)
        elif kind is Code.COMPETING:
            self.competing = True
            self.competing_ticks = self.ticks  # data flowing past this count means it has ended
            log.warning("competing live session (10197): no market data until it ends")
        elif kind is Code.LOST:
            self.ib_link = False
            log.warning("IB Gateway lost connectivity to IB (1100)")
        elif kind is Code.RESTORED_DATA_LOST:
            self.ib_link = True
            self._resubscribe_due = True
            log.warning("connectivity restored, data lost (1101): resubscribing")
        elif kind is Code.RESTORED:
            self.ib_link = True
            log.info("connectivity restored, data maintained (1102)")
        elif kind is Code.FARM_BROKEN:
            self.farm_ok = False
            log.warning("market data farm broken (%d): %s", code, message)
        elif kind is Code.FARM_OK:
            self.farm_ok = True
            log.info("market data farm OK (%d)", code)
        elif kind is Code.PACING:
            log.error("IB pacing violation (100): %s", message)
        else:
            log.info("IB message %d (reqId %d): %s", code, req_id, message)

    def _line_of(self, contract: Any) -> Line | None:
        if contract is None:
            return None
        if getattr(contract, "secType", "") == "STK":
            return UNDERLYING
        right, strike = getattr(contract, "right", ""), getattr(contract, "strike", 0.0)
        return (right, float(strike)) if right in ("C", "P") else None


