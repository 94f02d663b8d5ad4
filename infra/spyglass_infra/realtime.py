"""Azure SignalR Service in serverless mode: the Functions bindings publish, browsers only listen.

Free_F1 in dev (20 connections, 20k messages/day), Standard_S1 in prod. Local (access-key) auth is
off: the Function App reaches it with its managed identity (`AzureSignalRConnectionString__serviceUri`),
and browsers get short-lived tokens from /api/negotiate. CORS admits the Static Web App host only.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import signalrservice

from spyglass_infra.config import StackConfig
from spyglass_infra.naming import Names


class Realtime(pulumi.ComponentResource):
    def __init__(self, cfg: StackConfig, names: Names, group: pulumi.Input[str], dashboard_origin: pulumi.Input[str],
                 tags: dict[str, str]) -> None:
        super().__init__("spyglass:infra:Realtime", "realtime")
        sku, tier = cfg.signalr_sku
        self.name = names.dashed("sigr", unique=True)
        self.signalr = signalrservice.SignalR(
            "sigr",
            resource_name_=self.name,
            resource_group_name=group,
            location=cfg.location,
            kind="SignalR",
            sku={"name": sku, "tier": tier, "capacity": 1},
            features=[
                {"flag": "ServiceMode", "value": "Serverless"},
                {"flag": "EnableConnectivityLogs", "value": "true"},
            ],
            cors={"allowed_origins": [dashboard_origin]},
            disable_local_auth=True,
            public_network_access="Enabled",
            tls={"client_cert_enabled": False},
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.host = self.signalr.host_name
        self.service_uri = pulumi.Output.concat("https://", self.signalr.host_name)
        self.register_outputs({"host": self.host})
