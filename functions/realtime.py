"""SignalR negotiate: connection info for the dashboard, from the signalRConnectionInfo input binding.

In Azure the Functions host computes it from the SignalR Service connection
string; locally the devstack host does the same against the local service.
"""

from __future__ import annotations

import azure.functions as func

from functions.http import DATA_AUTH, route
from spyglass.wire.realtime import HUB

SIGNALR_SETTING = "AzureSignalRConnectionString"

bp = func.Blueprint()


@bp.generic_input_binding(arg_name="connection_info", type="signalRConnectionInfo", hub_name=HUB,
                          connection_string_setting=SIGNALR_SETTING)
@route(bp, "negotiate", "POST", auth_level=DATA_AUTH)
def negotiate(req: func.HttpRequest, connection_info: str) -> func.HttpResponse:
    """The JSON the SignalR client follows to the service: ``{url, accessToken}``."""
    return func.HttpResponse(connection_info, mimetype="application/json", headers={"Cache-Control": "no-store"})
