"""Ingest under bursts, reordering, restarts, outages and hostile messages, on the local stack.

Per scenario (devstack/scenarios.py; issue 11): snapshots applied in order / sent, late (stored,
marked), declared missing, refused as bad data, poisoned, **silently lost**, the longest stall of
a chain (from the stored rows' write times against enqueue times, after the fault's repair), and
the expected anomalies found (those one in-order process finds). The peer is the ideal: every
snapshot sent applied in order, none lost, no stall beyond the gap deadline (3 s).

The host-kill scenario runs the local host with a 60 s message lease instead of the runtime's
10 minutes, so the leased messages come back within the run; everything else is as in Azure.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devstack import scenarios  # noqa: E402
from devstack.ledger import Outcome  # noqa: E402


def row(name: str, o: Outcome, extra: str = "") -> str:
    anomalies = f"{o.found}/{o.expected}" if o.expected else "-"
    return (f"  {name:<28} {o.applied:>5}/{o.sent:<5} {o.late:>5} {o.missing:>7} {o.refused:>7} {o.poisoned:>8} "
            f"{len(o.lost):>6} {o.stall_s:>8.1f} s {anomalies:>9}  {extra}")


def main() -> None:
    print("starting the local stack (Azurite on disk, SignalR service, Functions host with a 60 s lease) ...",
          flush=True)
    with scenarios.stack(message_lease=60.0) as s:
        print(f"\nIngest scenarios, {scenarios.DAY} data, app clock {scenarios.CLOCK_START}")
        print(f"  {'scenario':<28} {'applied/sent':>11} {'late':>5} {'missing':>7} {'refused':>7} {'poisoned':>8} "
              f"{'lost':>6} {'stall':>10} {'anomalies':>9}")
        t0 = time.monotonic()

        def report(name: str, outcome: dict[str, Outcome], extra: str = "") -> None:
            for u, o in outcome.items():
                print(row(f"{name} [{u}]", o, extra), flush=True)

        report("burst, 8 senders", scenarios.burst(s, 600, 8))
        report("shuffled within 4, 0.5 s", scenarios.shuffled(s, 200, 4, 0.5, "SHFA"))
        report("shuffled within 10, 0.2 s", scenarios.shuffled(s, 300, 10, 0.2, "SHFB"))
        report("load, 6 underlyings", scenarios.load(s, 6, 250))
        outcome, unspooled, _ = scenarios.collector_restart(s)
        report("collector kill -9, restart", outcome, f"({unspooled} built at the kill, never spooled)")
        report("Azurite kill -9, 30 s", scenarios.azurite_outage(s, 30.0))
        outcome, latest = scenarios.clock(s)
        report("clock +10 min, 1900", outcome, f"latest {latest}")
        report("5,000 contracts, 46 KB JSON", scenarios.large(s, pause=7.0))
        poisoned, grown = scenarios.bomb(s)
        print(f"  {'gzip bomb, foreign blobs':<28} {len(poisoned)}/3 poisoned with a reason, host peak memory "
              f"+{grown / 2**20:.0f} MiB", flush=True)
        outcome, restart = scenarios.host_kill(s, 600, 8, 200)
        report("host kill -9 mid-burst", outcome, f"(host back in {restart:.1f} s)")
        print(f"\n  {time.monotonic() - t0:.0f} s. Peer (ideal): all applied in order, 0 lost, stall <= 3 s.")


if __name__ == "__main__":
    main()
