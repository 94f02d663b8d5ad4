"""The whole local stack as one unit: Azurite, the SignalR service and the Functions host.

Each runs in its own process group and is stopped by PID, so Ctrl-C leaves no
orphans. Secrets (the SignalR AccessKey, the function key) are generated per
run; nothing is read from the repository.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from devstack.azurite import Azurite

REPO = Path(__file__).resolve().parents[1]
SIGNALR_SETTING = "AzureSignalRConnectionString"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalStack:
    """Start with ``start()`` (or ``with``), read the URLs and keys, ``stop()`` at the end."""

    azurite: Azurite = field(default_factory=lambda: Azurite(in_memory=True))
    function_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    api_port: int = field(default_factory=free_port)
    signalr_port: int = field(default_factory=free_port)
    settings: dict[str, str] = field(default_factory=dict)
    workers: int = 1  # Functions host processes consuming the queue, as Azure scale-out would run
    log_dir: Path | None = None
    _procs: list[subprocess.Popen] = field(default_factory=list)
    signalr_connection: str = ""

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api"

    @property
    def storage_connection(self) -> str:
        return self.azurite.connection_string

    def start(self, timeout: float = 90.0) -> LocalStack:
        self.azurite.start()
        signalr = self._spawn("signalr", [sys.executable, "-m", "devstack.signalr", "--port", str(self.signalr_port)])
        self.signalr_connection = self._wait_line(signalr, SIGNALR_SETTING + "=", timeout).split("=", 1)[1]
        settings = {"AzureWebJobsStorage": self.storage_connection, SIGNALR_SETTING: self.signalr_connection,
                    **self.settings}
        hosts = []
        for n in range(self.workers):  # the first serves the API URL; all consume the queue
            args = [sys.executable, "-m", "devstack.host", "--app", "function_app",
                    "--port", str(self.api_port if n == 0 else free_port())]
            for k, v in settings.items():
                args += ["--setting", f"{k}={v}"]
            hosts.append(self._spawn("host" if n == 0 else f"host{n}", args,
                                     env={"SPYGLASS_FUNCTION_KEY": self.function_key}))
        for host in hosts:
            self._wait_line(host, "Functions host ready", timeout)
        return self

    def stop(self) -> None:
        for p in reversed(self._procs):
            _stop_group(p)
        self._procs.clear()
        self.azurite.close()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
        proc = subprocess.Popen(args, cwd=REPO, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                                stderr=log or subprocess.DEVNULL, start_new_session=True)
        self._procs.append(proc)
        return proc

    def _wait_line(self, proc: subprocess.Popen, marker: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline().decode(errors="replace").strip()
            if marker in line:
                _drain(proc)
                return line
            if not line and proc.poll() is not None:
                raise RuntimeError(f"{proc.args[2]} exited with {proc.returncode} before it was ready")
        raise TimeoutError(f"{proc.args[2]} not ready within {timeout} s")


def _drain(proc: subprocess.Popen) -> None:
    """Keep reading a child's stdout in the background so a full pipe never blocks it."""
    import threading

    def pump() -> None:
        assert proc.stdout is not None
        for _ in proc.stdout:
            pass

    threading.Thread(target=pump, daemon=True).start()


def _stop_group(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
