"""The whole Azure side, wired component by component; `infra/__main__.py` calls `main()`."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization

from spyglass_infra import names as n
from spyglass_infra.base import Base
from spyglass_infra.config import StackConfig, load
from spyglass_infra.edge_access import edge_access
from spyglass_infra.functionapp import FunctionApp
from spyglass_infra.monitoring import Monitoring
from spyglass_infra.naming import Names
from spyglass_infra.naming import tags as make_tags
from spyglass_infra.network import IPSEC_POLICY, Network
from spyglass_infra.realtime import Realtime
from spyglass_infra.security import Security
from spyglass_infra.storage import Storage
from spyglass_infra.web import Dashboard


def main(cfg: StackConfig | None = None) -> None:
    cfg = cfg or load()
    names = Names.of(cfg)
    tags = make_tags(cfg)
    client = authorization.get_client_config_output()

    base = Base(cfg, names, tags)
    group = base.group.name
    store = Storage(cfg, names, group, tags)
    security = Security(cfg, names, group, client.tenant_id, tags)
    dashboard = Dashboard(cfg, names, group, tags)
    realtime = Realtime(cfg, names, group, dashboard.url, tags)
    apps = {role: FunctionApp(cfg, names, group, subscription_id=client.subscription_id, storage=store,
                              insights=base.insights, realtime=realtime, security=security, tags=tags, role=role)
            for role in ("ingest", "api")}  # apart: a backlog never delays the API (docs/operations.md)
    functions, api = apps["ingest"], apps["api"]
    dashboard.link(api.app, cfg.location)
    Monitoring(cfg, names, base.group, base.insights, tags)
    edge = edge_access(cfg, group, store)

    pulumi.export("resourceGroup", group)
    pulumi.export("functionAppName", functions.app.name)  # ingest
    pulumi.export("apiFunctionAppName", api.app.name)
    pulumi.export("functionUrl", api.url)  # the HTTP API (behind the dashboard's link)
    pulumi.export("dashboardUrl", dashboard.url)
    pulumi.export("staticWebAppName", dashboard.site.name)
    pulumi.export("storageAccount", store.account.name)
    pulumi.export("queueNames", {"snapshots": n.SNAPSHOT_QUEUE, "poison": n.POISON_QUEUE})
    pulumi.export("signalrHost", realtime.host)
    pulumi.export("registryLoginServer", security.registry.login_server)
    pulumi.export("keyVaultName", security.vault.name)
    pulumi.export("edgeAccess", cfg.edge_access)
    if edge.queue_url is not None:
        pulumi.export("edgeQueueSasUrl", edge.queue_url)
        pulumi.export("edgeClaimCheckSasUrl", edge.claim_check_url)
        pulumi.export("botSignalsSasUrl", edge.signals_url)
        pulumi.export("edgeSasExpiry", cfg.edge_sas_expiry)
    if cfg.vpn.enabled:
        net = Network(cfg, names, group, tags)
        pulumi.export("vpn", {
            "azureGatewayIp": net.gateway_ip,
            "azureAddressSpaces": [cfg.vpn.vnet_address_space],
            "onPremGatewayIp": cfg.vpn.on_prem_gateway_ip,
            "onPremAddressSpaces": list(cfg.vpn.on_prem_address_spaces),
            "ipsecPolicy": IPSEC_POLICY,
        })
