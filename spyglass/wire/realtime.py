"""What the app pushes over SignalR: the hub, its targets, and one message per target.

The dashboard and the bot subscribe to hub ``spyglass``; every message carries one argument:
``anomaly`` and ``signal`` an anomaly/1 document, ``chain`` a snapshot's chain analytics.
"""

from __future__ import annotations

from typing import Any

HUB = "spyglass"
ANOMALY = "anomaly"  # every stored anomaly or incident
CHAIN = "chain"  # each applied snapshot's chain analytics
SIGNAL = "signal"  # an actionable anomaly, for the bot
TARGETS = (ANOMALY, CHAIN, SIGNAL)


def message(target: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One SignalR invocation: ``{"target", "arguments": [payload]}``."""
    if target not in TARGETS:
        raise ValueError(f"unknown SignalR target {target!r}; expected one of {', '.join(TARGETS)}")
    return {"target": target, "arguments": [payload]}


def payloads(messages: list[dict[str, Any]], target: str) -> list[dict[str, Any]]:
    """The payloads of ``target`` among ``messages``."""
    return [m["arguments"][0] for m in messages if m["target"] == target]
