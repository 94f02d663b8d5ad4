"""Shared pieces of the publisher tests: snapshots with a known seq, the consumer's view of the queue."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient, TextBase64DecodePolicy
from prometheus_client import REGISTRY

from devstack.azurite import Azurite
from edge.collector.publish_queue import QueueTarget
from edge.collector.publisher import Publisher
from edge.collector.spool import Spool
from spyglass.contract import Snapshot
from spyglass.wire import queue as codec


def make_snapshot(seq: int, *, contracts: int = 8, underlying: str = "SPY", noisy: bool = False) -> Snapshot:
    """A valid chain-snapshot/1 with ``seq``; ``noisy`` makes it incompressible (for claim-check sizes)."""
    rng = np.random.default_rng(seq)
    rows = []
    for k in range(contracts):
        bid = round(float(rng.uniform(0.01, 20.0)), 6) if noisy else 1.0 + k / 100
        rows.append({"right": "C" if k % 2 == 0 else "P", "strike": 400.0 + k * 0.5, "bid": bid,
                     "ask": round(bid + (float(rng.uniform(0.01, 0.3)) if noisy else 0.05), 6),
                     "volume": int(rng.integers(0, 10_000)) if noisy else k})
    minute, second = divmod(seq, 60)
    return Snapshot.from_dict({
        "schema": "chain-snapshot/1", "underlying": underlying, "expiry": "2026-11-24",
        "ts": f"2026-11-24T{15 + minute // 60:02d}:{minute % 60:02d}:{second:02d}.000Z",
        "spot": 500.0, "seq": seq, "source": "test", "contracts": rows,
    })


def sample(name: str) -> float:
    """A value from the process's Prometheus registry (where edge/collector/metrics.py counts)."""
    return REGISTRY.get_sample_value(name) or 0.0


def wait_until(pred: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def consume(conn: str, queue: str, claim_container: str = codec.DEFAULT_CLAIM_CONTAINER) -> list[Snapshot]:
    """Everything in the queue, in receive order, decoded exactly as the Functions ingest does."""
    q = QueueClient.from_connection_string(conn, queue, message_decode_policy=TextBase64DecodePolicy())
    blobs = BlobServiceClient.from_connection_string(conn)

    def fetch_blob(container: str, name: str, limit: int) -> bytes:
        return blobs.get_blob_client(container, name).download_blob(offset=0, length=limit + 1).readall()

    out: list[Snapshot] = []
    while True:
        batch = list(q.receive_messages(max_messages=32, visibility_timeout=60))
        if not batch:
            return out
        for m in batch:
            out.append(codec.decode(m.content, fetch_blob, claim_container))
            q.delete_message(m)


def overtaken(seqs: list[int]) -> int:
    """The most newer messages that arrived before any message's first delivery (0 = strictly in order)."""
    first: list[int] = []
    seen: set[int] = set()
    for s in seqs:
        if s not in seen:
            seen.add(s)
            first.append(s)
    return max((sum(1 for t in first[:i] if t > s) for i, s in enumerate(first)), default=0)


@pytest.fixture(scope="module")
def azurite() -> Iterator[Azurite]:
    """On disk, so a test can stop and restart it with its data (the outage test)."""
    with Azurite() as az:
        yield az


@pytest.fixture
def spool_path(tmp_path: Path) -> Path:
    return tmp_path / "spool" / "spool.db"


@pytest.fixture
def publisher_factory(spool_path: Path) -> Iterator[Callable[..., Publisher]]:
    made: list[Publisher] = []

    def make(target: QueueTarget, *, max_count: int = 10_000, **options: object) -> Publisher:
        options.setdefault("backoff_max", 0.5)
        p = Publisher(Spool(spool_path, max_count=max_count), target, **options)  # type: ignore[arg-type]
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop(timeout=5.0)
