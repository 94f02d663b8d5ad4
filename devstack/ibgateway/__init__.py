"""A faithful fake IB Gateway (TWS API text protocol, server version 178) driven by the simulator.

A local stand-in for tests, the demo and the benchmarks; it never ships in an edge image.
``FakeGateway`` is the server; ``python -m devstack.ibgateway --port N`` runs it standalone.
"""

from devstack.ibgateway.book import OrderBook
from devstack.ibgateway.connection import Connection, GatewayState
from devstack.ibgateway.market import SimMarket, today_market
from devstack.ibgateway.server import DEFAULT_HANDLERS, FakeGateway
from devstack.ibgateway.wire import SERVER_VERSION

__all__ = ["DEFAULT_HANDLERS", "SERVER_VERSION", "Connection", "FakeGateway", "GatewayState", "OrderBook",
           "SimMarket", "today_market"]
