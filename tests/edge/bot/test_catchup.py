"""Catch-up paging against a real HTTP server (uvicorn + starlette) that pages like GET /api/signals."""

import asyncio
import threading
from datetime import datetime, timedelta

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from devstack.proc import free_port
from edge.bot import catchup
from spyglass.contract import iso_ms
from tests.edge.bot.signals import NOW

ITEMS = [{"id": f"s{i:03d}", "ts": iso_ms(NOW + timedelta(seconds=i // 2))} for i in range(25)]


def test_since_for():
    assert catchup.since_for(None, NOW, 30) == NOW - timedelta(seconds=30)
    assert catchup.since_for(NOW, NOW + timedelta(minutes=5), 30) == NOW - catchup.OVERLAP
    assert catchup.since_for(NOW, NOW, 600) == NOW - timedelta(seconds=600)  # never less than the TTL
    assert catchup.since_for(NOW - timedelta(days=3), NOW, 30) == NOW - catchup.MAX_LOOKBACK


@pytest.fixture(scope="module")
def server():
    async def signals(request):
        if request.headers.get("x-functions-key") != "key":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        since = datetime.fromisoformat(request.query_params["since"].replace("Z", "+00:00"))
        limit = int(request.query_params["limit"])
        rows = [i for i in ITEMS if datetime.fromisoformat(i["ts"].replace("Z", "+00:00")) >= since][:limit]
        return JSONResponse({"items": rows, "count": len(rows)})

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/api/signals", signals)]), port=port,
                                        log_level="error"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    while not srv.started:
        t.join(0.02)
    yield f"http://127.0.0.1:{port}/api"
    srv.should_exit = True
    t.join(10)


def test_fetch_pages_without_loss_or_repeats(server):
    async def go():
        async with httpx.AsyncClient() as http:
            return await catchup.fetch_since(http, server, "key", NOW - timedelta(seconds=1), "SPY", page=4)
    got = asyncio.run(go())
    assert [i["id"] for i in got] == [i["id"] for i in ITEMS]


def test_fetch_refused_is_an_error(server):
    async def go():
        async with httpx.AsyncClient() as http:
            return await catchup.fetch_since(http, server, "wrong", NOW, "SPY")
    with pytest.raises(catchup.CatchupError, match="401"):
        asyncio.run(go())
