"""What the browser tests and the browser bench share: Debian's Chromium under Playwright, and feeding the stack.

Playwright drives ``/usr/bin/chromium`` (never ``playwright install``). Page checks are
``() => ...`` functions: the dashboard's CSP forbids eval, which string expressions would need.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import orjson
from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy
from playwright.sync_api import Browser, Page, Playwright

from devstack.stack import LocalStack
from spyglass.wire.queue import SNAPSHOT_QUEUE, encode_compact
from tests.spyglass.chainkit import ChainKit
from tests.spyglass.detect.test_bad_quotes import freeze
from tests.spyglass.detect.test_rules import shift

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def launch(playwright: Playwright) -> Browser:
    """Chromium with a fresh profile (Playwright makes a temporary user-data-dir per launch)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class Session:
    """One chain observed a second at a time, across several batches (volume keeps accumulating,
    so a later batch is not a data error), with one contract quoted ``by`` too high when asked."""

    def __init__(self, start: datetime, seed: int = 3, underlying: str = "SPY") -> None:
        self.kit = ChainKit(seed=seed, underlying=underlying)
        self.next_ts = start
        self.seq = 0

    def take(self, seconds: int, *, gap: float = 0.0, right: str = "C", strike: float | None = None,
             by: float = 0.12, onset: int = 0, vol_jump: float = 0.0) -> list[dict]:
        """``vol_jump``: ATM vol moves this much from the first snapshot on (the whole smile reprices)."""
        start = self.next_ts + timedelta(seconds=gap)
        self.kit.atm += vol_jump
        events = {} if strike is None else {s: shift(right, strike, by, self.kit) for s in range(onset, seconds)}
        out = []
        for snap in self.kit.stream(start, seconds, events):
            d = snap.to_dict()
            d["seq"] = self.seq
            self.seq += 1
            out.append(d)
        self.next_ts = start + timedelta(seconds=seconds)
        return out

    def take_frozen(self, seconds: int, lines: list[tuple[str, float]], *, rise: float = 0.1,
                    crossed: tuple[str, float] | None = None) -> list[dict]:
        """``lines`` keep their first quotes (with truthful quote ages) while spot climbs ``rise`` a second: stale
        quotes, reported as data errors; ``crossed`` gets a bid above its ask in the first snapshot."""
        at, base, start, out = freeze(self.kit, lines, 0, with_age=True), self.kit.spot, self.next_ts, []
        bad = None if crossed is None else self.kit.index(*crossed)
        for s in range(seconds):
            self.kit.spot = base + rise * s

            def mutate(q, *args, s=s):
                at(s)(q, *args)
                if s == 0 and bad is not None:
                    q["bid"][bad] = q["ask"][bad] + 0.05

            out.append({**self.kit.snapshot(start + timedelta(seconds=s), mutate=mutate).to_dict(), "seq": self.seq})
            self.seq += 1
        self.next_ts = start + timedelta(seconds=seconds)
        return out


def queue(stack: LocalStack) -> QueueClient:
    q = QueueClient.from_connection_string(stack.storage_connection, SNAPSHOT_QUEUE,
                                           message_encode_policy=TextBase64EncodePolicy())
    try:
        q.create_queue()
    except ResourceExistsError:
        pass
    return q


def enqueue(stack: LocalStack, docs: Iterable[dict]) -> list[dict]:
    """Send snapshots as the edge does (compact encoding, base64 for the queue trigger)."""
    q, sent = queue(stack), []
    for d in docs:
        q.send_message(encode_compact(orjson.dumps(d)))
        sent.append(d)
    return sent


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def later(ts: datetime, seconds: float) -> datetime:
    return ts + timedelta(seconds=seconds)


def wait(page: Page, fn: str, arg: object = None, timeout: float = 20.0) -> object:
    """Wait until the page function ``fn`` (``(arg) => ...``) returns something truthy; return it."""
    return page.wait_for_function(fn, arg=arg, timeout=timeout * 1000).json_value()


def dataset(page: Page, selector: str) -> dict[str, str]:
    return page.eval_on_selector(selector, "(e) => ({...e.dataset})")
