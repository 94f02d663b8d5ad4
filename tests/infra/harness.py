"""Run the real Pulumi program under `pulumi.runtime.set_mocks` and record what it asks Azure for.

No Pulumi CLI and no cloud: every resource registration and provider function call goes to
`AzureMocks`, which answers the way Azure Resource Manager would (ARM-shaped ids, the read-only
outputs the program uses) and keeps the inputs. Write-only inputs (app settings, the VPN PSK)
exist only here, which is why the tests read inputs, not state.
"""

from __future__ import annotations

import asyncio

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

INFRA = Path(__file__).resolve().parents[2] / "infra"
if str(INFRA) not in sys.path:
    sys.path.insert(0, str(INFRA))

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"
TENANT = "00000000-0000-0000-0000-0000000000bb"
_NAME_KEYS = ("accountName", "resourceGroupName")  # never the resource's own name unless nothing else fits
_OWN_NAME = ("queueName", "tableName", "containerName", "secretName", "vaultName", "registryName",
             "workspaceName", "resourceName", "ruleName", "actionGroupName", "budgetName",
             "virtualNetworkName", "publicIpAddressName", "virtualNetworkGatewayName",
             "localNetworkGatewayName", "virtualNetworkGatewayConnectionName", "linkedBackendName",
             "managementPolicyName", "roleAssignmentName", "name")
_PROVIDER_PATH = {
    "storage:StorageAccount": "Microsoft.Storage/storageAccounts",
    "web:WebApp": "Microsoft.Web/sites",
    "web:AppServicePlan": "Microsoft.Web/serverfarms",
    "web:StaticSite": "Microsoft.Web/staticSites",
    "signalrservice:SignalR": "Microsoft.SignalRService/SignalR",
    "keyvault:Vault": "Microsoft.KeyVault/vaults",
    "containerregistry:Registry": "Microsoft.ContainerRegistry/registries",
    "operationalinsights:Workspace": "Microsoft.OperationalInsights/workspaces",
    "applicationinsights:Component": "Microsoft.Insights/components",
    "monitor:ActionGroup": "Microsoft.Insights/actionGroups",
    "monitor:MetricAlert": "Microsoft.Insights/metricAlerts",
    "monitor:ScheduledQueryRule": "Microsoft.Insights/scheduledQueryRules",
    "network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "network:PublicIPAddress": "Microsoft.Network/publicIPAddresses",
    "network:VirtualNetworkGateway": "Microsoft.Network/virtualNetworkGateways",
    "network:LocalNetworkGateway": "Microsoft.Network/localNetworkGateways",
    "network:VirtualNetworkGatewayConnection": "Microsoft.Network/connections",
}


@dataclass
class Resource:
    type: str  # e.g. "azure-native:storage:StorageAccount"
    name: str  # the Pulumi logical name
    inputs: dict[str, Any]
    id: str
    state: dict[str, Any]

    @property
    def short_type(self) -> str:
        return self.type.removeprefix("azure-native:")


@dataclass
class Deployment:
    resources: list[Resource] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)

    def of(self, short_type: str) -> list[Resource]:
        return [r for r in self.resources if r.short_type == short_type]

    def one(self, short_type: str) -> Resource:
        found = self.of(short_type)
        assert len(found) == 1, f"expected one {short_type}, found {[r.name for r in found]}"
        return found[0]

    def app(self, role: str) -> Resource:
        """The Function App deployed with this ``SPYGLASS_APP_ROLE`` (``ingest`` or ``api``)."""
        found = [r for r in self.of("web:WebApp")
                 if {"name": "SPYGLASS_APP_ROLE", "value": role} in r.inputs["siteConfig"]["appSettings"]]
        assert len(found) == 1, f"expected one {role} Function App, found {[r.name for r in found]}"
        return found[0]

    def by_id(self, resource_id: str) -> Resource:
        return next(r for r in self.resources if r.id == resource_id)

    def call_args(self, token: str) -> list[dict[str, Any]]:
        return [a for t, a in self.calls if t == token]


class AzureMocks(pulumi.runtime.Mocks):
    def __init__(self, deployment: Deployment) -> None:
        self.d = deployment

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        if not args.typ.startswith("azure-native:"):
            return f"{args.name}-id", dict(args.inputs)
        inputs = dict(args.inputs)
        short = args.typ.removeprefix("azure-native:")
        own = next((inputs[k] for k in _OWN_NAME if k in inputs), args.name)
        group = inputs.get("resourceGroupName", "rg")
        rg_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"
        account = f"{rg_id}/providers/Microsoft.Storage/storageAccounts/{inputs.get('accountName')}"
        state = dict(inputs)
        if short == "storage:StorageAccount":
            own = inputs["accountName"]
            rid = f"{rg_id}/providers/Microsoft.Storage/storageAccounts/{own}"
        elif short == "storage:ManagementPolicy":
            rid = f"{account}/managementPolicies/{own}"
        elif short == "resources:ResourceGroup":
            rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{inputs['resourceGroupName']}"
            own = inputs["resourceGroupName"]
        elif short == "storage:Queue":
            rid = f"{account}/queueServices/default/queues/{own}"
        elif short == "storage:Table":
            rid = f"{account}/tableServices/default/tables/{own}"
        elif short == "storage:BlobContainer":
            rid = f"{account}/blobServices/default/containers/{own}"
        elif short == "keyvault:Secret":
            rid = f"{rg_id}/providers/Microsoft.KeyVault/vaults/{inputs['vaultName']}/secrets/{own}"
            state["properties"] = {**inputs.get("properties", {}),
                                   "secretUri": f"https://{inputs['vaultName']}.vault.azure.net/secrets/{own}"}
        elif short == "authorization:RoleAssignment":
            rid = f"{inputs['scope']}/providers/Microsoft.Authorization/roleAssignments/{_guid(args.name)}"
        elif short == "web:StaticSiteLinkedBackend":
            rid = f"{rg_id}/providers/Microsoft.Web/staticSites/{inputs['name']}/linkedBackends/{own}"
        elif short in ("web:WebAppFtpAllowed", "web:WebAppScmAllowed"):
            rid = f"{rg_id}/providers/Microsoft.Web/sites/{inputs['name']}/basicPublishingCredentialsPolicies/{args.name}"
        elif short == "consumption:Budget":
            rid = f"{inputs['scope']}/providers/Microsoft.Consumption/budgets/{own}"
        else:
            path = _PROVIDER_PATH.get(short, short.replace(":", "/"))
            rid = f"{rg_id}/providers/{path}/{own}"
        state["name"] = own
        state.update(_computed(short, own, inputs, rid))
        self.d.resources.append(Resource(args.typ, args.name, inputs, rid, state))
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.d.calls.append((args.token, dict(args.args)))
        if args.token == "azure-native:authorization:getClientConfig":
            return {"clientId": "client", "objectId": "object", "subscriptionId": SUBSCRIPTION, "tenantId": TENANT}, []
        if args.token == "azure-native:storage:listStorageAccountServiceSAS":
            a = args.args
            sr = f"&sr={a['resource']}" if a.get("resource") else ""
            return {"serviceSasToken": f"sv=2022-11-02{sr}&sp={a['permissions']}&se={a['sharedAccessExpiryTime']}"
                                       f"&spr={a['protocols']}&sig=MOCKSIG"}, []
        raise AssertionError(f"unexpected provider call {args.token}")


def _guid(text: str) -> str:
    h = hashlib.sha256(text.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _computed(short: str, own: str, inputs: dict[str, Any], rid: str) -> dict[str, Any]:
    """The read-only outputs Azure returns that the program reads."""
    if short == "web:WebApp":
        return {"defaultHostName": f"{own}.azurewebsites.net",
                "identity": {"type": "SystemAssigned", "principalId": _guid(own), "tenantId": TENANT}}
    if short == "web:StaticSite":
        return {"defaultHostname": f"happy-rock-{_guid(own)[:6]}.azurestaticapps.net"}
    if short == "signalrservice:SignalR":
        return {"hostName": f"{own}.service.signalr.net"}
    if short == "containerregistry:Registry":
        return {"loginServer": f"{own}.azurecr.io"}
    if short == "applicationinsights:Component":
        return {"connectionString": f"InstrumentationKey={_guid(own)};IngestionEndpoint=https://eastus.in.applicationinsights.azure.com/"}
    if short == "network:PublicIPAddress":
        return {"ipAddress": "20.42.0.7"}
    if short == "network:VirtualNetwork":
        return {"subnets": [{**s, "id": f"{rid}/subnets/{s['name']}"} for s in inputs.get("subnets", [])]}
    return {}


def stack_config(stack: str) -> dict[str, Any]:
    """The committed Pulumi.<stack>.yaml, as the CLI would hand it to the program."""
    data = yaml.safe_load((INFRA / f"Pulumi.{stack}.yaml").read_text())
    return dict(data["config"])


def deploy(config: dict[str, Any], stack: str = "dev", secrets: dict[str, str] | None = None,
           entry_point: bool = False) -> Deployment:
    """Run the program once with `config` (plus secret `secrets`) and return what it registered.

    `entry_point` runs infra/__main__.py itself, as the Pulumi CLI would, instead of calling main().
    """
    import runpy

    from spyglass_infra.program import main

    d = Deployment()
    # Pulumi's mocks use the thread's current event loop; a test that ran asyncio.run() before us in this
    # worker leaves none, so give each run its own
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.settings.ROOT.set(None)  # a fresh root stack per run: outputs never leak between runs
    pulumi.runtime.set_mocks(AzureMocks(d), project="spyglass", stack=stack, preview=False, organization="spyglass-org")
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in {**config, **(secrets or {})}.items()}
    pulumi.runtime.set_all_config(flat, secret_keys=list(secrets or {}))

    @pulumi.runtime.test
    def run():
        if entry_point:
            runpy.run_path(str(INFRA / "__main__.py"), run_name="__main__")
        else:
            main()
        outputs = pulumi.runtime.get_root_resource().outputs

        async def secret_names():
            return {k for k, v in outputs.items()
                    if isinstance(v, pulumi.Output) and await v.is_secret()}

        async def collect(values):
            d.outputs.update(values)
            d.secret_outputs.update(await secret_names())

        return pulumi.Output.all(**outputs).apply(collect)

    run()
    return d


_SIG = "4dabf18193072939515e22adb298388d"  # pulumi.runtime.rpc._special_sig_key
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def secret_value(value: Any) -> Any:
    """The plain value of an input that reached the engine marked secret; fails if it was not secret."""
    assert isinstance(value, dict) and value.get(_SIG) == _SECRET_SIG, f"not a secret: {value!r}"
    return value["value"]
