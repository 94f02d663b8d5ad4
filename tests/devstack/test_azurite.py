"""The Azurite launcher: fresh storage on free ports, restart keeps data, stop leaves nothing."""

from __future__ import annotations

import os

import pytest
from azure.storage.queue import QueueClient, QueueServiceClient

from devstack.azurite import DEV_ACCOUNT_NAME, Azurite, AzuriteError


def _gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)  # Azurite leads its own process group
    except ProcessLookupError:
        return True
    return False


def test_queue_round_trip_restart_keeps_data_and_stop_leaves_no_process() -> None:
    with Azurite() as az:
        assert DEV_ACCOUNT_NAME in az.connection_string
        ports, first_pid = az.ports, az.pid
        assert first_pid is not None
        queue = QueueClient.from_connection_string(az.connection_string, "round-trip")
        queue.create_queue()
        queue.send_message("first")
        received = list(queue.receive_messages(max_messages=1, visibility_timeout=1))
        assert [m.content for m in received] == ["first"]
        queue.delete_message(received[0])
        queue.send_message("survives a restart")

        az.restart()

        assert az.ports == ports
        assert az.pid != first_pid and _gone(first_pid)
        assert [m.content for m in queue.peek_messages(max_messages=32)] == ["survives a restart"]
        pid, workdir = az.pid, az.location
    assert pid is not None and _gone(pid)
    assert not az.running
    assert workdir is not None and not workdir.exists()  # fresh storage each run, nothing left


def test_parallel_instances_get_distinct_free_ports_and_fresh_storage() -> None:
    with Azurite() as a, Azurite(in_memory=True) as b:
        assert a.ports is not None and b.ports is not None
        assert {a.ports.blob, a.ports.queue, a.ports.table}.isdisjoint({b.ports.blob, b.ports.queue, b.ports.table})
        QueueClient.from_connection_string(a.connection_string, "only-in-a").create_queue()
        names_b = [q.name for q in QueueServiceClient.from_connection_string(b.connection_string).list_queues()]
        assert names_b == []
        with pytest.raises(ValueError, match="on-disk"):
            b.restart()


def test_kill_then_stop_is_safe_and_missing_binary_is_reported(tmp_path) -> None:
    az = Azurite().start()
    pid = az.pid
    assert pid is not None
    az.kill()
    assert _gone(pid)
    az.close()  # stopping an already-dead instance is a no-op
    with pytest.raises(AzuriteError, match="npm ci"):
        Azurite(binary=tmp_path / "no-azurite")
