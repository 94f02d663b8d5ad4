"""``python -m edge.bot``: run the bot as configured by the environment (see edge/README.md, "Bot")."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from edge.bot.runner import run
from edge.bot.settings import BotSettings, SettingsError


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = BotSettings.from_env()
    except SettingsError as exc:
        print(f"spyglass bot: {exc}", file=sys.stderr)
        return 2

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(go())
    return 0


if __name__ == "__main__":
    sys.exit(main())
