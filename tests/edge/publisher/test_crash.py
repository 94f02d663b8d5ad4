"""Durability: SIGKILL the sending process mid-send; a new process drains the rest, nothing accepted is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient

from edge.collector.publish_queue import QueueTarget
from edge.collector.spool import Spool, SpoolLocked
from tests.edge.publisher.conftest import consume, overtaken, wait_until

pytestmark = pytest.mark.xdist_group("edge-publisher")

REPO = Path(__file__).resolve().parents[3]
N = 300


def test_sigkill_mid_send_loses_nothing_accepted(azurite, spool_path, publisher_factory):
    queue = QueueClient.from_connection_string(azurite.connection_string, "q-crash")
    queue.create_queue()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.edge.publisher.child", str(spool_path), azurite.connection_string, "q-crash",
         str(N)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    accepted: list[int] = []
    reader = threading.Thread(target=lambda: accepted.extend(int(line.split()[1]) for line in child.stdout or ()))
    reader.start()
    try:
        # kill once the child has sent some (and, submitting faster than it sends, still holds a backlog)
        wait_until(lambda: queue.get_queue_properties().approximate_message_count >= 20, timeout=30,
                   what="the child to send 20 messages")
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(10)
    reader.join(10)
    assert child.returncode == -signal.SIGKILL
    assert accepted == list(range(len(accepted))) and len(accepted) > 20

    pub = publisher_factory(QueueTarget.from_connection_string(azurite.connection_string, "q-crash"))
    left = pub.depth
    assert left > 0  # the restart really has something to drain: the kill came mid-stream
    pub.start()
    wait_until(lambda: pub.depth == 0, timeout=30, what="the new process to drain the spool")

    seqs = [s.seq for s in consume(azurite.connection_string, "q-crash")]
    assert set(accepted) <= set(seqs)  # every accepted snapshot arrived at least once
    assert set(seqs) <= set(range(N))
    assert len(seqs) - len(set(seqs)) <= 2 + 64  # duplicates: the child's window plus one ack batch at most
    assert overtaken(seqs) <= 1 + 3  # in order up to the send windows: 2 in the child (1), 4 here (3)


def test_sigkill_of_the_real_collector_mid_send(azurite, spool_path, publisher_factory):
    """`python -m edge.collector --source sim` publishing 50 snapshots/s, killed with SIGKILL while it sends."""
    queue = QueueClient.from_connection_string(azurite.connection_string, "q-collector-crash")
    queue.create_queue()
    cmd = [sys.executable, "-m", "edge.collector", "--source", "sim", "--clean", "--scan-interval", "0.02",
           "--clock-start", "2026-11-23T10:00", "--queue", azurite.connection_string, "--spool", str(spool_path),
           "--ops-port", "-1"]
    env = {**os.environ, "SNAPSHOT_QUEUE": "q-collector-crash"}
    collector = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
    try:
        wait_until(lambda: queue.get_queue_properties().approximate_message_count >= 20 or collector.poll() is not None,
                   timeout=60, what="the collector to send 20 snapshots")
        assert collector.poll() is None, f"collector exited early with {collector.returncode}"
        os.killpg(collector.pid, signal.SIGKILL)
        collector.wait(10)
    finally:
        if collector.poll() is None:
            os.killpg(collector.pid, signal.SIGKILL)
            collector.wait(10)

    pub = publisher_factory(QueueTarget.from_connection_string(azurite.connection_string, "q-collector-crash"))
    assert pub.depth > 0  # killed with snapshots still to send
    pub.start()
    wait_until(lambda: pub.depth == 0, timeout=30, what="the restarted publisher to drain the spool")
    seqs = [s.seq for s in consume(azurite.connection_string, "q-collector-crash")]
    assert sorted(set(seqs)) == list(range(max(seqs) + 1))  # no gap: every snapshot it accepted arrived
    assert len(seqs) - len(set(seqs)) <= 4 + 64  # bounded duplicates (window + one ack batch)
    assert overtaken(seqs) <= 3 + 3


def test_one_process_per_spool(spool_path):
    with Spool(spool_path), pytest.raises(SpoolLocked):
        Spool(spool_path)
    Spool(spool_path).close()  # released on close (and by the kernel on a crash)
