"""`python -m devstack.host --app function_app --port 7071`: run an app until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from .config import ConfigError
from .host import KEY_SETTING, FunctionsHost


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m devstack.host", description=__doc__)
    p.add_argument(
        "--app",
        default="function_app",
        help="module name, .py file or app directory; ':var' picks a variable (default app)",
    )
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7071, help="HTTP port; 0 picks a free one (default 7071)")
    p.add_argument("--host-json", help="host.json to use instead of the app directory's")
    p.add_argument(
        "--setting",
        action="append",
        default=[],
        type=_setting,
        metavar="NAME=VALUE",
        help="app setting overriding environment and local.settings.json (repeatable)",
    )
    p.add_argument(
        "--message-lease",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="how long a fetched queue message stays hidden, renewed at half-time (default 600, as the runtime)",
    )
    p.add_argument("--verbose", "-v", action="store_true", help="log every invocation and request")
    return p.parse_args(argv)


def _banner(host: FunctionsHost) -> str:
    lines = [f"Functions host ready: {len(host.functions)} function(s) from {host.module.__name__}"]
    for url in host.urls():
        methods = ",".join(url.methods) if url.methods else "ANY"
        lines.append(f"  http   {url.name}: {methods} {url.url} [{url.auth_level}]")
    for spec in host.functions:
        if spec.trigger.type == "queueTrigger":
            lines.append(f"  queue  {spec.name}: {spec.trigger.get('queueName')}")
        elif spec.trigger.type == "timerTrigger":
            lines.append(f"  timer  {spec.name}: {spec.trigger.get('schedule')}")
    lines.append(f"Base URL: {host.base_url}")
    lines.append(f"Function key: {host.function_key}  (header x-functions-key or ?code=; set {KEY_SETTING} to fix it)")
    return "\n".join(lines)


async def _serve(args: argparse.Namespace) -> int:
    settings = dict(args.setting)
    host = FunctionsHost(
        args.app,
        settings=settings,
        host_json=args.host_json,
        host=args.host,
        port=args.port,
        message_lease=args.message_lease,
        log_level="info" if args.verbose else "warning",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await host.start()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the port is taken
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(_banner(host), flush=True)
    await stop.wait()
    print("Shutting down...", flush=True)
    await host.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("devstack.host").setLevel(logging.INFO)
    logging.getLogger("azure").setLevel(logging.WARNING)  # the SDK logs every request at INFO
    return asyncio.run(_serve(args))


if __name__ == "__main__":
    sys.exit(main())
