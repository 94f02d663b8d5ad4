"""`python -m devstack.signalr`: run the local SignalR service in the foreground.

    python -m devstack.signalr --port 8888 --access-key KEY
    AzureSignalRConnectionString='Endpoint=http://127.0.0.1:8888;AccessKey=KEY;Version=1.0;' \
        python -m devstack.signalr

With neither a key nor a connection string a fresh random AccessKey is generated.
Once listening it prints `AzureSignalRConnectionString=<connection string>` on stdout.
SIGINT/SIGTERM stop it gracefully.
"""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import urlsplit

from .connection import new_access_key, new_connection_string, parse_connection_string
from .service import bind, build_server
from .settings import ServiceSettings

ENV_VAR = "AzureSignalRConnectionString"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack.signalr", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="default: the connection string's, else 0 (any free port)")
    parser.add_argument("--access-key", help="AccessKey tokens must be signed with")
    parser.add_argument("--connection-string", default=os.environ.get(ENV_VAR),
                        help=f"read Endpoint/AccessKey from it (default: ${ENV_VAR})")
    parser.add_argument("--keep-alive", type=float, default=15.0, help="server ping interval (s)")
    parser.add_argument("--client-timeout", type=float, default=30.0, help="drop clients silent this long (s)")
    parser.add_argument("--log-level", default="info")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    key, port, endpoints = args.access_key, args.port, ()
    if args.connection_string and not key:
        conn = parse_connection_string(args.connection_string)
        key, endpoints = conn.access_key, (conn.endpoint, conn.client_endpoint)
        if port is None:
            port = urlsplit(conn.endpoint).port or 80
    key = key or new_access_key()
    sock = bind(args.host, port or 0)
    bound_port = sock.getsockname()[1]
    settings = ServiceSettings(key, tuple(dict.fromkeys(endpoints)), args.keep_alive, args.client_timeout)

    def ready() -> None:
        print(f"{ENV_VAR}={new_connection_string(bound_port, args.host, key)}", flush=True)

    build_server(settings, args.log_level, on_ready=ready).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
