"""Prometheus metrics of the collector, in one place so every part counts into the same series.

Served on ``/metrics`` by the ops endpoints; rates (ticks/s) come from ``rate()`` in Prometheus.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

TICKS = Counter("spyglass_collector_ticks", "Tick messages received from the source")
SNAPSHOTS = Counter("spyglass_collector_snapshots", "Snapshots built and accepted into the spool")
SNAPSHOT_BUILD_SECONDS = Histogram(
    "spyglass_collector_snapshot_build_seconds", "Time to build one snapshot from the live book",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1),
)
SPOOL_DEPTH = Gauge("spyglass_collector_spool_depth", "Snapshots in the spool not yet acknowledged by the queue")
SPOOL_BYTES = Gauge("spyglass_collector_spool_bytes", "Bytes of snapshots waiting in the spool")
SEND_SECONDS = Histogram(
    "spyglass_collector_send_seconds", "Latency of one send to the Azure queue (including claim-check upload)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
SEND_FAILURES = Counter("spyglass_collector_send_failures", "Failed sends to the Azure queue (retried later)")
ERRORS = Counter("spyglass_collector_errors", "Errors reported by the source, by IBKR error code", ["code"])
MARKET_DATA_LINES = Gauge("spyglass_collector_market_data_lines", "Market-data lines in use (underlying + options)")
CONNECTED = Gauge("spyglass_collector_connected", "1 while the source (IB Gateway) is connected")
LAST_SNAPSHOT_TS = Gauge("spyglass_collector_last_snapshot_timestamp_seconds", "Unix time of the newest snapshot")
DELAYED_DATA = Gauge("spyglass_collector_delayed_data", "1 while market data is delayed (error 10167 fallback)")
# -- publisher (spool policy and claim-check); appended by the publisher ------------------------
SPOOL_FULL = Gauge("spyglass_collector_spool_full", "1 while the spool is at its bound and refuses new snapshots")
SPOOL_REFUSED = Counter("spyglass_collector_spool_refused", "Snapshots refused because the spool was full (lost)")
SENT = Counter("spyglass_collector_sent", "Snapshots acknowledged by the Azure queue (at least once)")
CLAIM_CHECKS = Counter("spyglass_collector_claim_checks", "Snapshots sent as a claim-check blob (over 64 KiB)")
MARKET_OPEN = Gauge("spyglass_collector_market_open",
                    "1 while the market is open: the session the source streams (IB's trading hours), else the exchange "
                    "calendar (holidays and early closes included)")
