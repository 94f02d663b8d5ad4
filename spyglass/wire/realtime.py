"""What the app pushes over SignalR: the hub, its targets, and one message per target.

The dashboard and the bot subscribe to hub ``spyglass``; every message carries one argument:
``anomaly`` and ``signal`` an anomaly/1 document, ``chain`` a snapshot's chain analytics, ``outcome``
one horizon of an alert's outcome (``{"anomaly_id", "underlying", "alert_ts", "type", "severity",
"horizon", "status", ...}``: spyglass.outcome.Markout).
"""

from __future__ import annotations

from typing import Any

HUB = "spyglass"
ANOMALY = "anomaly"  # every stored anomaly or incident
CHAIN = "chain"  # each applied snapshot's chain analytics
SIGNAL = "signal"  # an actionable anomaly, for the bot
OUTCOME = "outcome"  # a horizon of an alert's markout, as it passes
TARGETS = (ANOMALY, CHAIN, SIGNAL, OUTCOME)


def message(target: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One SignalR invocation: ``{"target", "arguments": [payload]}``."""
    if target not in TARGETS:
        raise ValueError(f"unknown SignalR target {target!r}; expected one of {', '.join(TARGETS)}")
    return {"target": target, "arguments": [payload]}


def payloads(messages: list[dict[str, Any]], target: str) -> list[dict[str, Any]]:
    """The payloads of ``target`` among ``messages``."""
    return [m["arguments"][0] for m in messages if m["target"] == target]
