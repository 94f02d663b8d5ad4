"""The API and the poison tools on the local stack (Azurite, the local Functions host on the azure-functions library).

Schemathesis runs every check in every phase against the OpenAPI document and must find nothing.
The stack holds a little data, so 200 answers are checked against the schema too. The run is
bounded by ``max-examples`` and a fixed seed (about a minute here), with no cache carried between
runs. The deviations, hooks that repair positive cases OpenAPI cannot judge, are set explicitly
in the config below and described in docs/operations.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx
import orjson
import pytest
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devstack.stack import REPO, LocalStack
from functions.poison import Inspector
from spyglass.wire.queue import encode_compact
from tests.spyglass.chainkit import T0, ChainKit
from tests.spyglass.detect.test_rules import shift

pytestmark = pytest.mark.xdist_group("api-stack")
MAX_EXAMPLES = 25
SEED = 20261124
CONFIG = """
hooks = "tests.stack.schemathesis_hooks"
seed = {seed}
workers = 1
request-timeout = 20
suppress-health-check = ["too_slow"]

[checks]
enabled = true

[cache]
enabled = false

[generation]
max-examples = {max_examples}
database = "none"

[parameters]
"path.id" = "{anomaly_id}"
"""


@pytest.fixture(scope="module")
def stack():
    with LocalStack() as s:
        q = QueueClient.from_connection_string(s.storage_connection, "chain-snapshots",
                                               message_encode_policy=TextBase64EncodePolicy())
        q.create_queue()
        kit = ChainKit(seed=4)
        events = {n: shift("C", 602, 0.12, kit) for n in range(3, 8)}
        for n, snap in enumerate(kit.stream(T0, 8, events)):
            q.send_message(encode_compact(orjson.dumps({**snap.to_dict(), "seq": n})))
        yield s


def _anomaly_id(stack: LocalStack) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = httpx.get(f"{stack.api}/anomalies", params={"since": "2026-11-24T00:00:00Z", "until": "2026-11-25T00:00:00Z"},
                      headers={"x-functions-key": stack.function_key}, timeout=10)
        if r.status_code == 200 and r.json()["items"]:
            return r.json()["items"][0]["id"]
        time.sleep(0.3)
    raise AssertionError("no anomaly stored within 60 s")


def test_schemathesis_finds_nothing(stack, tmp_path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(seed=SEED, max_examples=MAX_EXAMPLES, anomaly_id=_anomaly_id(stack)))
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color", "run",
         f"{stack.api}/openapi.json", "--checks", "all", "-H", f"x-functions-key: {stack.function_key}"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-20000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", report)
    assert counts and counts[1] == counts[2] and int(counts[1]) >= 300, report[-3000:]  # it tested, and all passed


def test_a_poisoned_message_keeps_its_tries_and_its_real_reason(stack):
    """The host moves only the body; the recorded tries and error are joined back by `spyglass poison`."""
    q = QueueClient.from_connection_string(stack.storage_connection, "chain-snapshots",
                                           message_encode_policy=TextBase64EncodePolicy())
    malformed = '{"schema":"chain-snapshot/1","underlying":"XLF"}'
    never_written = "edge/XLF/2026-11-24/2026-11-24T15:00:00.000Z-7"  # a name the publisher writes, but no blob
    missing = orjson.dumps({"schema": "claim-check/1", "container": "claim-checks", "blob": never_written}).decode()
    q.send_message(malformed)
    q.send_message(missing)
    inspector = Inspector(stack.storage_connection)
    deadline = time.monotonic() + 60
    while len(found := inspector.messages()) < 2:
        assert time.monotonic() < deadline, found
        time.sleep(0.5)
    by_text = {m.text: m for m in found}
    assert by_text[malformed].tries == 3 and by_text[malformed].reason.startswith("invalid chain-snapshot/1")
    assert by_text[missing].tries == 3  # and the real failure, not "no blob access configured":
    assert by_text[missing].reason == f"claim-check blob claim-checks/{never_written} does not exist"
