"""The edge box, locally: the fake IB Gateway and ``python -m edge.collector --source ibkr`` publishing to Azurite.

The demo runs the production path: the real ib_async client reads the fake gateway's
simulated market, the collector builds snapshots, spools them in SQLite and drains them
to ``chain-snapshots``. Both run in their own process groups and stop by PID.

On the wall clock (``clock_start=None``) the gateway serves today's session, or a simulated
one around now, and the collector runs on real time as in production: it learns the close from
the gateway's contract details, and ``--simulated`` only names its snapshots' source ``ibkr-sim``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from devstack.proc import free_port, start_group, stop_group


@dataclass
class LocalEdge:
    storage_connection: str
    work_dir: Path
    clock_start: str | None = None  # ISO time a fixed simulated day starts at (New York); None: the wall clock
    session_hours: str | None = None  # with the wall clock: "OPEN/CLOSE" of a simulated session (ISO)
    seed: int = 7
    rate_per_hour: float = 30.0  # injected anomalies per hour per type
    gateway_port: int = field(default_factory=free_port)
    ops_port: int = field(default_factory=free_port)
    _procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def ops(self) -> str:
        return f"http://127.0.0.1:{self.ops_port}"

    def start(self, timeout: float = 60.0) -> LocalEdge:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        spool = self.work_dir / "spool.db"
        for old in self.work_dir.glob("spool.db*"):  # a previous demo's snapshots must not be re-sent
            old.unlink()
        clock = ["--clock-start", self.clock_start] if self.clock_start else []
        hours = ["--session-hours", self.session_hours] if self.session_hours else []
        gateway = self._spawn("gateway", [
            "-m", "devstack.ibgateway", "--port", str(self.gateway_port), *clock, *hours,
            "--seed", str(self.seed), "--inject", "--rate-per-hour", str(self.rate_per_hour)])
        self._wait_for(gateway, "gateway", "listening on", timeout)
        self._spawn("collector", [
            "-m", "edge.collector", "--source", "ibkr", "--simulated", "--port", str(self.gateway_port), *clock,
            "--queue", self.storage_connection, "--spool", str(spool),
            "--record", str(self.work_dir / "recordings"), "--ops-port", str(self.ops_port)])
        return self

    def stop(self) -> None:
        for proc in reversed(self._procs):  # the collector first: it flushes its spool and recorder
            stop_group(proc)
        self._procs.clear()

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.work_dir / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
        proc = start_group([sys.executable, *args], stdout=log, stderr=subprocess.STDOUT)
        self._procs.append(proc)
        return proc

    def _wait_for(self, proc: subprocess.Popen, name: str, marker: str, timeout: float) -> None:
        log = self.work_dir / f"{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in log.read_text(errors="replace"):
                return
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}: see {log}")
            time.sleep(0.1)
        raise TimeoutError(f"{name} did not start within {timeout} s: see {log}")
