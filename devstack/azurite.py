"""Azurite launcher: a private Storage emulator (blob, queue, table) for tests and the demo.

Every instance gets fresh storage and free ports (tests run in parallel, so fixed ports
would collide): Azurite binds port 0 itself and we read the ports it reports, which has
no pick-then-bind race. `restart()` reuses the same ports and data directory, so a test
can kill the emulator mid-stream and check that nothing queued is lost. The process runs
in its own process group and is stopped by that group, so no node process is orphaned.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from devstack.proc import REPO

DEFAULT_BINARY = REPO / "node_modules" / ".bin" / "azurite"

# The emulator's well-known account. Microsoft publishes this key in the Azurite and
# Storage emulator documentation; it is a public constant that only opens local emulators,
# not a secret.
DEV_ACCOUNT_NAME = "devstoreaccount1"
PUBLIC_DEV_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

_LISTENING = re.compile(r"Azurite (Blob|Queue|Table) service is successfully listening at \S+:(\d+)")
_LIVE: weakref.WeakSet[Azurite] = weakref.WeakSet()


class AzuriteError(RuntimeError):
    """Azurite did not start (the message carries the end of its log)."""


@dataclass(frozen=True)
class Ports:
    blob: int
    queue: int
    table: int


class Azurite:
    """One Azurite process; use as a context manager or call start()/stop()/close()."""

    def __init__(
        self,
        *,
        binary: str | os.PathLike[str] | None = None,
        location: str | os.PathLike[str] | None = None,
        in_memory: bool = False,
        host: str = "127.0.0.1",
        ports: Ports | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        if in_memory and location is not None:
            raise ValueError("choose either an on-disk location or in_memory, not both")
        self.binary = Path(binary) if binary else DEFAULT_BINARY
        if not self.binary.exists():
            raise AzuriteError(f"{self.binary} not found: run `npm ci` (see Makefile `setup`)")
        self.host = host
        self.in_memory = in_memory
        self.startup_timeout = startup_timeout
        self._workdir = Path(tempfile.mkdtemp(prefix="azurite-"))
        self.location: Path | None = None
        if not in_memory:
            self.location = Path(location) if location is not None else self._workdir / "data"
            self.location.mkdir(parents=True, exist_ok=True)
        self._requested = ports
        self.ports: Ports | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._runs = 0

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        """Start and wait until all three services accept connections."""
        if self.running:
            return self
        self._launch(self.ports or self._requested)
        _LIVE.add(self)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the process group (SIGTERM, then SIGKILL after `timeout`)."""
        self._signal_group(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL the process group: a crash.

        Unlike Azure, Azurite persists its metadata (queues, messages, tables) with a
        5-second autosave (LokiJS), so a kill loses up to the last ~5 s of writes; a
        graceful stop()/restart() flushes everything first.
        """
        self._signal_group(signal.SIGKILL, 5.0)

    def restart(self, *, hard: bool = False) -> None:
        """Stop (or kill, if `hard`: see kill()) and start again on the same ports and data."""
        if self.in_memory:
            raise ValueError("restart keeps data only with on-disk storage (in_memory=False)")
        if self.ports is None:
            raise RuntimeError("restart() before the first start()")
        if hard:
            self.kill()
        else:
            self.stop()
        deadline = time.monotonic() + self.startup_timeout
        while True:  # the old sockets may linger for a moment; ports are fixed now
            try:
                self._launch(self.ports)
                return
            except AzuriteError as exc:
                if "EADDRINUSE" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        """Stop and delete the temporary files this instance created."""
        self.stop()
        _LIVE.discard(self)
        shutil.rmtree(self._workdir, ignore_errors=True)  # holds the data unless `location` was given

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- state -------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def endpoint(self, service: str) -> str:
        """`http://host:port/devstoreaccount1` for "blob", "queue" or "table"."""
        if self.ports is None:
            raise RuntimeError("Azurite has not been started")
        return f"http://{self.host}:{getattr(self.ports, service)}/{DEV_ACCOUNT_NAME}"

    @property
    def connection_string(self) -> str:
        """A Storage connection string for the SDKs and `AzureWebJobsStorage`."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT_NAME};"
            f"AccountKey={PUBLIC_DEV_ACCOUNT_KEY};"
            f"BlobEndpoint={self.endpoint('blob')};QueueEndpoint={self.endpoint('queue')};"
            f"TableEndpoint={self.endpoint('table')};"
        )

    # -- internals ---------------------------------------------------------------------

    def _launch(self, ports: Ports | None) -> None:
        self._runs += 1
        log_path = self._workdir / f"azurite-{self._runs}.log"
        storage = ["--inMemoryPersistence"] if self.in_memory else ["--location", str(self.location)]
        wanted = ports or Ports(0, 0, 0)
        cmd = [
            str(self.binary),
            "--silent",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--loose",
            *storage,
            "--blobHost",
            self.host,
            "--blobPort",
            str(wanted.blob),
            "--queueHost",
            self.host,
            "--queuePort",
            str(wanted.queue),
            "--tableHost",
            self.host,
            "--tablePort",
            str(wanted.table),
        ]
        with open(log_path, "wb") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self._workdir,
            )
        try:
            self.ports = self._wait_ready(log_path)
        except BaseException:
            self._signal_group(signal.SIGKILL, 5.0)
            raise

    def _wait_ready(self, log_path: Path) -> Ports:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            text = log_path.read_text(errors="replace")
            found = {name.lower(): int(port) for name, port in _LISTENING.findall(text)}
            if len(found) == 3:
                ports = Ports(found["blob"], found["queue"], found["table"])
                if all(_accepts(self.host, p) for p in (ports.blob, ports.queue, ports.table)):
                    return ports
            if self._proc.poll() is not None:
                raise AzuriteError(f"Azurite exited with {self._proc.returncode}: {text[-2000:]}")
            time.sleep(0.05)
        raise AzuriteError(f"Azurite not ready in {self.startup_timeout}s: {log_path.read_text()[-2000:]}")

    def _signal_group(self, sig: signal.Signals, timeout: float) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5.0)
        _reap_group(proc.pid)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _reap_group(pgid: int) -> None:
    """Kill anything left in the group (Azurite runs one node process, but be certain)."""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.02)


@atexit.register
def _stop_all() -> None:
    for instance in list(_LIVE):
        instance.stop(timeout=2.0)
