import asyncio

import httpx

from devstack.proc import free_port
from edge.bot.runner import run
from edge.bot.settings import BotSettings


def test_paused_bot_serves_health_and_does_nothing_else(tmp_path):
    port = free_port()
    s = BotSettings(mode="off", ops_port=port, state_dir=tmp_path)

    async def go():
        stop = asyncio.Event()
        task = asyncio.create_task(run(s, stop, ops_host="127.0.0.1"))
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                try:
                    health = await http.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            ready = await http.get(f"http://127.0.0.1:{port}/readyz")
        stop.set()
        return health, ready, await asyncio.wait_for(task, 10)

    health, ready, result = asyncio.run(go())
    assert health.status_code == 200 and ready.status_code == 200 and "paused" in ready.text
    assert result is None
    assert list(tmp_path.iterdir()) == []  # no ledger, no audit: nothing was read


def test_main_refuses_live_without_the_confirmation():
    import os
    import subprocess
    import sys

    env = {**os.environ, "SPYGLASS_BOT_MODE": "live", "SPYGLASS_API": "http://127.0.0.1:1/api",
           "SPYGLASS_FUNCTION_KEY": "k"}
    env.pop("SPYGLASS_BOT_LIVE_CONFIRM", None)
    out = subprocess.run([sys.executable, "-m", "edge.bot"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "SPYGLASS_BOT_LIVE_CONFIRM" in out.stderr
