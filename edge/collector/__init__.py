"""Collector: sources (ibkr, sim, replay) -> snapshots -> spool -> Azure queue, plus recorder and ops endpoints."""
