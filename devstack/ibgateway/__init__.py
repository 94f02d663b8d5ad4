"""A faithful fake IB Gateway (TWS API text protocol, server version 178) driven by the simulator.

``FakeGateway`` is the server; ``python -m devstack.ibgateway --port N`` runs it standalone.
"""

from devstack.ibgateway.market import SimMarket
from devstack.ibgateway.server import SERVER_VERSION, Connection, FakeGateway, today_market

__all__ = ["SERVER_VERSION", "Connection", "FakeGateway", "SimMarket", "today_market"]
