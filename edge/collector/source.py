"""What every collector source offers the app: ``run(emit, stop)`` and ``readiness()``.

A sink is any ``Callable[[Snapshot], None]`` (the recorder, the publisher's ``submit``); the app
fans each snapshot out to all of them. Sources never import Azure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Protocol

from spyglass.contract import Snapshot

Sink = Callable[[Snapshot], None]


class Source(Protocol):
    name: str

    async def run(self, emit: Sink, stop: asyncio.Event) -> None: ...

    def readiness(self) -> tuple[bool, str]: ...


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def shifted_clock(start: datetime | None) -> Callable[[], datetime]:
    """Real time, or a clock that starts at ``start`` and runs at real speed (demo and tests)."""
    if start is None:
        return utc_now
    offset: timedelta = start - utc_now()
    return lambda: utc_now() + offset
