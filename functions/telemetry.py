"""Application Insights via OpenTelemetry when ``APPLICATIONINSIGHTS_CONNECTION_STRING`` is set.

Custom metrics: ``spyglass.scoring_ms`` (histogram), ``spyglass.queue_lag_s`` (now minus the
snapshot's ``ts``), ``spyglass.anomalies`` (counter by type). Without the connection string the
OpenTelemetry API is a no-op, so local runs and tests pay nothing.
"""

from __future__ import annotations

import logging
import os

from opentelemetry import metrics

log = logging.getLogger("spyglass.telemetry")
_meter = metrics.get_meter("spyglass")
scoring_ms = _meter.create_histogram("spyglass.scoring_ms", unit="ms", description="time to score one snapshot")
queue_lag_s = _meter.create_histogram("spyglass.queue_lag_s", unit="s", description="now minus snapshot ts")
anomalies = _meter.create_counter("spyglass.anomalies", description="anomalies emitted, by type")
_configured = False


def configure() -> bool:
    """Send logs, traces and metrics to Application Insights if it is configured; idempotent."""
    global _configured
    if _configured or not os.environ.get("APPLICATIONINSIGHTS_CONNECTION_STRING"):
        return _configured
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor(logger_name="spyglass")
    _configured = True
    log.info("Application Insights telemetry enabled")
    return True


def record(scoring: float, lag: float, types: list[str]) -> None:
    scoring_ms.record(scoring)
    queue_lag_s.record(lag)
    for t in types:
        anomalies.add(1, {"type": t})
