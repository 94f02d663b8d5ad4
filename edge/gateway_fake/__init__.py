"""A faithful fake IB Gateway (TWS API text protocol, server version 178) driven by the simulator.

``FakeGateway`` is the server; ``python -m edge.gateway_fake --port N`` runs it standalone.
"""

from edge.gateway_fake.market import SimMarket
from edge.gateway_fake.server import SERVER_VERSION, Connection, FakeGateway, today_market

__all__ = ["SERVER_VERSION", "Connection", "FakeGateway", "SimMarket", "today_market"]
