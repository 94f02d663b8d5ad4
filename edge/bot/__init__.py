"""The trading bot: paused by default, defined-risk orders only, every decision audited.

Small modules, one job each: ``settings`` (mode and limits from the environment),
``rules`` (signal -> order plan), ``risk`` (limits), ``ledger`` (persistent
dedupe and order book), ``audit`` (JSON lines), ``catchup`` (REST catch-up
after a reconnect), ``feed`` (SignalR subscription), ``broker`` (shadow / IBKR),
``app`` (wiring).
"""
