"""The stand-ins' process helpers: a stop or a kill takes the whole group, children included."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from devstack.proc import REPO, free_port, kill_group, start_group, stop_group

# A parent that starts a child in its own group and prints the child's PID, then waits.
PARENT = "import subprocess, sys, time; c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); " \
         "print(c.pid, flush=True); time.sleep(120)"


def gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # our own zombie children count as gone once reaped elsewhere; others show in /proc as Z
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ")[1].startswith("Z"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_free_port_can_be_bound():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_start_group_runs_from_the_repo_with_added_environment():
    proc = start_group([sys.executable, "-c", "import os; print(os.getcwd(), os.environ['PROBE'], os.getpgrp())"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={"PROBE": "ok"})
    out, _ = proc.communicate(timeout=30)
    cwd, probe, pgrp = out.decode().split()
    assert (cwd, probe, int(pgrp)) == (str(REPO), "ok", proc.pid)  # its own group, led by itself


def test_stop_group_and_kill_group_take_the_children_too():
    for end in (stop_group, kill_group):
        proc = start_group([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        child = int(proc.stdout.readline())
        end(proc)
        assert proc.poll() is not None and gone(child), end.__name__
        stop_group(proc)  # already gone: nothing happens
