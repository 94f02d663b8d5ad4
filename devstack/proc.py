"""Process helpers shared by the local stand-ins: the repository root, free ports, process groups.

Every stand-in runs in a process group of its own, started from the repository root, and is
stopped through its group, so its children go with it and Ctrl-C leaves no orphans.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]

Output = IO[bytes] | int | None  # a file, subprocess.PIPE / DEVNULL / STDOUT, or inherited


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_group(args: list[str], *, stdout: Output, stderr: Output,
                env: dict[str, str] | None = None) -> subprocess.Popen:
    """Run ``args`` from the repository root in a new process group; ``env`` adds to this environment."""
    return subprocess.Popen(args, cwd=REPO, env={**os.environ, **(env or {})}, stdout=stdout, stderr=stderr,
                            start_new_session=True)


def stop_group(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the process's group and wait ``timeout`` s, then SIGKILL it; nothing if already gone."""
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


def kill_group(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGKILL the process's group (a crash) and reap the process."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout)
