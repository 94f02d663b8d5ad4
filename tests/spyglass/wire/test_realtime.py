"""The SignalR messages: one shape for every target, and the dashboard listens to every target the app sends."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from spyglass.wire import realtime

REPO = Path(__file__).resolve().parents[3]


def test_a_message_carries_one_payload_for_a_known_target():
    a, c = {"schema": "anomaly/1", "id": "x"}, {"ts": "2026-11-24T17:00:00.000Z"}
    messages = [realtime.message(realtime.ANOMALY, a), realtime.message(realtime.CHAIN, c)]
    assert messages[0] == {"target": "anomaly", "arguments": [a]}
    assert realtime.payloads(messages, realtime.CHAIN) == [c] and realtime.payloads(messages, realtime.SIGNAL) == []
    with pytest.raises(ValueError, match="unknown SignalR target 'anomalies'"):
        realtime.message("anomalies", a)


def test_the_dashboard_subscribes_to_every_target():
    live = (REPO / "static-web" / "js" / "live.js").read_text()
    [targets] = re.findall(r"for \(const target of (\[[^\]]*\])\)", live)
    assert tuple(json.loads(targets)) == realtime.TARGETS
