"""timerTrigger: NCRONTAB (six fields, seconds first) or TimeSpan schedules.

Like the runtime, a timer function never overlaps itself: occurrences missed while an
invocation was running collapse into one immediate run with `past_due` true. The time
zone is WEBSITE_TIME_ZONE (an IANA name) or UTC. Schedule status is not persisted (no
`useMonitor` storage), so occurrences missed while the host was down are not replayed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from azure.functions import meta
from azure.functions.timer import TimerRequestConverter
from croniter import croniter

from .config import ConfigError, parse_timespan
from .index import FunctionSpec
from .invoke import Invoker

log = logging.getLogger("devstack.host")
PAST_DUE_TOLERANCE = timedelta(seconds=1)


class Schedule:
    """Next occurrence after a time, for an NCRONTAB expression or a TimeSpan interval."""

    def __init__(self, expression: str, tz: tzinfo) -> None:
        self.expression = expression.strip()
        self.tz = tz
        self.interval: timedelta | None = None
        if re.fullmatch(r"[\d.:]+", self.expression):
            self.interval = timedelta(seconds=parse_timespan(self.expression, "timer schedule"))
            if self.interval <= timedelta(0):
                raise ConfigError(f"timer schedule {expression!r} must be positive")
        elif len(self.expression.split()) != 6:
            raise ConfigError(
                f"timer schedule {expression!r}: NCRONTAB needs six fields "
                "({second} {minute} {hour} {day} {month} {day-of-week})"
            )
        elif not croniter.is_valid(self.expression, second_at_beginning=True):
            raise ConfigError(f"timer schedule {expression!r} is not a valid NCRONTAB expression")

    def next_after(self, when: datetime) -> datetime:
        if self.interval is not None:
            return when + self.interval
        it = croniter(self.expression, when.astimezone(self.tz), second_at_beginning=True)
        return it.get_next(datetime)


def time_zone(name: str | None) -> tzinfo:
    return ZoneInfo(name) if name else UTC


def timer_request(past_due: bool, last: datetime | None, nxt: datetime | None) -> Any:
    """A real `azure.functions.TimerRequest`, built by the library's converter."""
    now = datetime.now(UTC).isoformat()
    payload = {
        "Schedule": {"AdjustForDST": True},
        "ScheduleStatus": {
            "Last": last.isoformat() if last else None,
            "Next": nxt.isoformat() if nxt else None,
            "LastUpdated": now,
        },
        "IsPastDue": past_due,
    }
    return TimerRequestConverter.decode(meta.Datum(json.dumps(payload), "json"), trigger_metadata={})


class TimerListener:
    """Fires one function on its schedule until stopped."""

    def __init__(self, spec: FunctionSpec, schedule: Schedule, invoker: Invoker) -> None:
        self.spec = spec
        self.schedule = schedule
        self.invoker = invoker
        self.run_on_startup = bool(spec.trigger.get("runOnStartup", False))
        self._last: datetime | None = None

    def now(self) -> datetime:
        return datetime.now(self.schedule.tz)

    async def run(self) -> None:
        if self.run_on_startup:
            await self._fire(past_due=False, reason="Timer fired at startup", nxt=self.schedule.next_after(self.now()))
        due = self.schedule.next_after(self.now())
        missed = False
        while True:
            await _sleep_until(due, self.now)
            late = self.now() - due > PAST_DUE_TOLERANCE
            nxt = self.schedule.next_after(due)
            await self._fire(past_due=missed or late, reason="Timer fired", nxt=nxt)
            missed = nxt < self.now()  # the run overlapped occurrences: one late run for all
            due = self.now() if missed else nxt

    async def _fire(self, past_due: bool, reason: str, nxt: datetime) -> None:
        request = timer_request(past_due, self._last, nxt)
        self._last = self.now()
        # a failure is logged by the invoker; the schedule goes on
        await self.invoker.invoke(self.spec, request, {}, f"{reason} at {self._last.isoformat()}")


async def _sleep_until(due: datetime, now: Any) -> None:
    while (remaining := (due - now()).total_seconds()) > 0:
        await asyncio.sleep(min(remaining, 60.0))
