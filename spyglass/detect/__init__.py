"""Detectors: each rule turns a priced snapshot (and per-chain state) into findings."""
