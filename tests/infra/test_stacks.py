"""dev vs prod, the optional VPN, tags on everything, outputs and the edge's SAS."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest
from spyglass_infra.config import ConfigError
from spyglass_infra.network import IPSEC_POLICY

from tests.infra.conftest import VPN, VPN_PSK
from tests.infra.harness import deploy, secret_value, stack_config

NETWORK_TYPES = ("network:VirtualNetwork", "network:PublicIPAddress", "network:VirtualNetworkGateway",
                 "network:LocalNetworkGateway", "network:VirtualNetworkGatewayConnection")
# Sub-resources and assignments have no tags in ARM; test_untaggable_types_really_have_no_tags keeps this honest.
UNTAGGABLE = {"storage:Queue", "storage:Table", "storage:BlobContainer", "storage:ManagementPolicy",
              "authorization:RoleAssignment", "web:StaticSiteLinkedBackend", "web:WebAppFtpAllowed",
              "web:WebAppScmAllowed", "consumption:Budget"}


def test_entry_point_runs_the_same_program(dev):
    """infra/__main__.py, run the way the Pulumi CLI runs it, registers the same resources."""
    via_main = deploy(stack_config("dev"), "dev", entry_point=True)
    assert sorted((r.type, r.name) for r in via_main.resources) == sorted((r.type, r.name) for r in dev.resources)
    assert via_main.outputs == dev.outputs


def test_signalr_sku_differs_between_dev_and_prod(dev, prod):
    assert dev.one("signalrservice:SignalR").inputs["sku"]["name"] == "Free_F1"
    assert prod.one("signalrservice:SignalR").inputs["sku"]["name"] == "Standard_S1"


def test_purge_protection_only_in_prod(dev, prod):
    assert prod.one("keyvault:Vault").inputs["properties"]["enablePurgeProtection"] is True
    assert prod.one("keyvault:Vault").inputs["properties"]["softDeleteRetentionInDays"] == 90
    # ARM refuses an explicit false: dev leaves it unset so the vault can be purged and re-created
    assert "enablePurgeProtection" not in dev.one("keyvault:Vault").inputs["properties"]


def test_other_prod_differences(dev, prod):
    assert prod.one("storage:StorageAccount").inputs["sku"]["name"] == "Standard_ZRS"
    assert dev.one("storage:StorageAccount").inputs["sku"]["name"] == "Standard_LRS"
    assert "workspaceCapping" not in prod.one("operationalinsights:Workspace").inputs
    assert dev.one("operationalinsights:Workspace").inputs["workspaceCapping"]["dailyQuotaGb"] == 0.5
    assert {r.inputs["tags"]["env"] for r in prod.resources if "tags" in r.inputs} == {"prod"}
    for role in ("ingest", "api"):
        assert dev.app(role).inputs["name"] != prod.app(role).inputs["name"]


def test_no_network_resources_unless_vpn_enabled(dev, prod):
    for d in (dev, prod):
        assert not [r for r in d.resources if r.short_type in NETWORK_TYPES]
        assert "vpn" not in d.outputs


def test_vpn_when_enabled(dev_vpn):
    gw = dev_vpn.one("network:VirtualNetworkGateway").inputs
    assert (gw["gatewayType"], gw["vpnType"], gw["sku"]["name"]) == ("Vpn", "RouteBased", "VpnGw1")
    vnet = dev_vpn.one("network:VirtualNetwork")
    assert gw["ipConfigurations"][0]["subnet"]["id"] == f"{vnet.id}/subnets/GatewaySubnet"
    local = dev_vpn.one("network:LocalNetworkGateway").inputs
    assert local["gatewayIpAddress"] == "203.0.113.10"
    assert local["localNetworkAddressSpace"]["addressPrefixes"] == ["192.168.50.0/24"]
    conn = dev_vpn.one("network:VirtualNetworkGatewayConnection").inputs
    assert (conn["connectionType"], conn["connectionProtocol"]) == ("IPsec", "IKEv2")
    # from secret config, never from the stack file, and still secret when it reaches the engine
    assert secret_value(conn["sharedKey"]) == VPN_PSK["spyglass:vpnPsk"]
    assert conn["virtualNetworkGateway1"]["id"] == dev_vpn.one("network:VirtualNetworkGateway").id
    assert conn["localNetworkGateway2"]["id"] == dev_vpn.one("network:LocalNetworkGateway").id
    policy = conn["ipsecPolicies"][0]
    assert (policy["ikeEncryption"], policy["dhGroup"], policy["ipsecEncryption"], policy["pfsGroup"]) == \
        (IPSEC_POLICY["ike_encryption"], IPSEC_POLICY["dh_group"], IPSEC_POLICY["ipsec_encryption"],
         IPSEC_POLICY["pfs_group"])
    out = dev_vpn.outputs["vpn"]
    assert out["azureGatewayIp"] == dev_vpn.one("network:PublicIPAddress").state["ipAddress"]
    assert out["onPremAddressSpaces"] == ["192.168.50.0/24"]


def test_vpn_without_psk_is_refused_before_anything_is_created():
    with pytest.raises(ConfigError, match="vpnPsk"):
        deploy({**stack_config("dev"), **VPN}, "dev")


def test_inputs_reach_the_provider_with_wire_names(dev_vpn):
    """A plain dict for a union-typed input keeps its snake_case keys, which ARM would ignore."""
    snake = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")

    def walk(value, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                assert not snake.match(key), f"{path}.{key}"
                walk(inner, f"{path}.{key}")
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                walk(inner, f"{path}[{i}]")

    for r in dev_vpn.resources:
        walk(r.inputs, f"{r.short_type} {r.name}")


def test_committed_stack_files_hold_no_secrets():
    for stack in ("dev", "prod"):
        cfg = stack_config(stack)
        assert not {"spyglass:vpnPsk", "spyglass:notifyWebhookUrl", "spyglass:alertWebhookUrl"} & set(cfg)


@pytest.mark.parametrize("fixture", ["dev", "prod", "dev_vpn"])
def test_every_taggable_resource_is_tagged(fixture, request):
    d = request.getfixturevalue(fixture)
    azure = [r for r in d.resources if r.type.startswith("azure-native:")]
    assert len(azure) > 25
    for r in azure:
        if r.short_type in UNTAGGABLE:
            continue
        tags = r.inputs.get("tags")
        assert tags and tags["app"] == "spyglass" and tags["managed-by"] == "pulumi", f"{r.short_type} {r.name} untagged"
        assert tags["env"] == ("prod" if fixture == "prod" else "dev")


def test_untaggable_types_really_have_no_tags():
    """An exemption is only allowed for a type whose Pulumi args have no `tags` at all."""
    for short in UNTAGGABLE:
        module, cls = short.split(":")
        mod = importlib.import_module(f"pulumi_azure_native.{module}")
        args = getattr(mod, f"{cls}Args")
        assert "tags" not in inspect.signature(args.__init__).parameters, short


def test_outputs(dev):
    o = dev.outputs
    assert o["functionUrl"] == f"https://{dev.app('api').state['defaultHostName']}"  # the HTTP API
    assert (o["functionAppName"], o["apiFunctionAppName"]) == (dev.app("ingest").inputs["name"],
                                                               dev.app("api").inputs["name"])
    assert o["dashboardUrl"] == f"https://{dev.one('web:StaticSite').state['defaultHostname']}"
    assert o["queueNames"] == {"snapshots": "chain-snapshots", "poison": "chain-snapshots-poison"}
    assert o["signalrHost"] == dev.one("signalrservice:SignalR").state["hostName"]
    assert {"edgeQueueSasUrl", "edgeClaimCheckSasUrl", "botSignalsSasUrl"} <= dev.secret_outputs
    assert "functionUrl" not in dev.secret_outputs


def test_edge_sas_is_add_only_on_the_snapshot_queue_with_an_expiry(dev):
    account = dev.one("storage:StorageAccount").inputs["accountName"]
    calls = dev.call_args("azure-native:storage:listStorageAccountServiceSAS")
    queue = next(c for c in calls if c["canonicalizedResource"].startswith("/queue/"))
    assert queue["canonicalizedResource"] == f"/queue/{account}/chain-snapshots"
    assert queue["permissions"] == "a" and queue["protocols"] == "https"
    assert queue["sharedAccessExpiryTime"] == stack_config("dev")["spyglass:edgeSasExpiry"]
    blob = next(c for c in calls if c["canonicalizedResource"].startswith("/blob/"))
    assert blob["canonicalizedResource"] == f"/blob/{account}/claim-checks"
    assert (blob["resource"], blob["permissions"]) == ("c", "cw")  # create/write; no read, list or delete
    signals = next(c for c in calls if c["canonicalizedResource"].startswith("/table/"))
    assert signals["canonicalizedResource"] == f"/table/{account}/signals"
    assert (signals["permissions"], signals["protocols"]) == ("r", "https")  # the bot reads signals, nothing else
    assert len(calls) == 3
    assert dev.outputs["botSignalsSasUrl"].startswith(f"https://{account}.table.core.windows.net/signals?")
    url = dev.outputs["edgeQueueSasUrl"]
    assert url.startswith(f"https://{account}.queue.core.windows.net/chain-snapshots?") and "sp=a&" in url


@pytest.mark.parametrize("override, message", [
    ({"spyglass:edgeAccess": "keys"}, "edgeAccess"),
    ({"spyglass:edgeSasExpiry": "next year"}, "edgeSasExpiry"),
    ({"spyglass:budgetStartDate": "2026-12-15"}, "budgetStartDate"),
    ({"spyglass:env": "staging"}, "env"),
    ({"spyglass:marketHours": {"open": "9:30am"}}, "marketHours"),
    ({"spyglass:marketHours": {"timezone": "UTC'); print 1; //"}}, "timezone"),
])
def test_bad_config_is_refused(override, message):
    with pytest.raises(ConfigError, match=message):
        deploy({**stack_config("dev"), **override}, "dev")
