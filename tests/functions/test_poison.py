"""`spyglass poison` against real Azurite: list with reasons, show, replay."""

from __future__ import annotations

import subprocess
import sys

from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from functions.poison import POISON_QUEUE, peek, replay
from functions.settings import SNAPSHOT_QUEUE


def test_list_show_and_replay(azurite):
    conn = azurite.connection_string
    q = QueueClient.from_connection_string(conn, POISON_QUEUE, message_encode_policy=TextBase64EncodePolicy())
    q.create_queue()
    q.send_message('{"schema":"chain-snapshot/1","underlying":"SPY"}')
    q.send_message("gz:not-base64!")
    listed = peek(conn)
    assert [m.reason.split(":")[0] for m in listed] == ["invalid chain-snapshot/1", "compact snapshot is not base64 gzip"]
    env = {"AzureWebJobsStorage": conn, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "spyglass.cli", "poison", "list"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and "ts: Field required" in out.stdout and "2 message(s)" in out.stderr
    shown = subprocess.run([sys.executable, "-m", "spyglass.cli", "poison", "show", listed[1].id], env=env,
                           capture_output=True, text=True, timeout=120)
    assert shown.stdout.strip() == "gz:not-base64!"
    assert replay(conn, {listed[0].id}) == 1
    target = QueueClient.from_connection_string(conn, SNAPSHOT_QUEUE)
    moved = [m.content for m in target.peek_messages(max_messages=32)]
    assert len(moved) == 1 and [m.id for m in peek(conn)] == [listed[1].id]
