"""The Function Apps on Flex Consumption (Python 3.11), their identities, app settings and role assignments.

One package, two apps (docs/operations.md "The API apart from ingest"): `ingest` runs the queue
trigger and the retention timer, `api` the HTTP routes the dashboard's Static Web App links to,
picked by `SPYGLASS_APP_ROLE`. Scoring holds the Python worker's GIL and its thread pool; apart,
a backlog never delays the API, and each app scales on its own signal (queue length, HTTP load).

Why Flex Consumption over Linux Consumption (infra/README.md has the long form): identity-based
storage everywhere, including the deployment package (Linux Consumption would need a SAS URL or a
connection string for it), per-function scale with a configurable instance memory, faster cold
starts, and Linux Consumption is being retired (September 2028) with no new language versions.

Every connection is identity-based; the app settings hold names and URIs only, never a key.
Role assignments are scoped to the single queue, table, container, vault secret or service the app
uses, except Blob Data Owner, which the Functions host needs on the account (it creates and leases
its own containers, azure-webjobs-hosts and azure-webjobs-secrets, for timer locks and keys).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import web

from spyglass_infra import names as n
from spyglass_infra import roles
from spyglass_infra.config import StackConfig
from spyglass_infra.naming import Names

PYTHON_VERSION = "3.11"


def app_settings(cfg: StackConfig, *, account_name: str, insights_connection: pulumi.Input[str],
                 signalr_uri: pulumi.Input[str], notify_secret_ref: pulumi.Input[str] | None,
                 api_token_ref: pulumi.Input[str] | None = None, role: str = "ingest") -> dict[str, pulumi.Input[str]]:
    """The app settings by name: exactly the names functions/ and spyglass/config.py read."""
    settings: dict[str, pulumi.Input[str]] = {
        n.APP_ROLE_SETTING: role,
        **n.ROLE_SETTINGS[role],
        f"{n.STORAGE_SETTING}__accountName": account_name,  # identity-based host + trigger storage
        f"{n.SIGNALR_SETTING}__serviceUri": signalr_uri,  # identity-based SignalR bindings (extension >= 1.7)
        "APPLICATIONINSIGHTS_CONNECTION_STRING": insights_connection,
        **n.TABLES,
        "CLAIM_CHECK_CONTAINER": n.CLAIM_CHECK_CONTAINER,
        "RETENTION_DAYS": str(cfg.retention_days),
        # linked behind the Static Web App: only the site reaches the app and its proxy adds no key
        n.API_AUTH_SETTING: "anonymous",
        "NOTIFY_MIN_SEVERITY": cfg.notify_min_severity,
        "NOTIFY_MAX_PER_MINUTE": str(cfg.notify_max_per_minute),
        # the package is mounted read-only: caches go to the instance's scratch disk
        "SPYGLASS_CACHE_DIR": "/tmp/spyglass-cache",
        "NUMBA_CACHE_DIR": "/tmp/numba-cache",
    }
    settings.update({f"SPYGLASS_{field.upper()}": value for field, value in cfg.detectors.items()})
    if notify_secret_ref is not None and role == "ingest":  # notifications are sent by ingest only
        settings["NOTIFY_WEBHOOK_URL"] = notify_secret_ref
        settings["NOTIFY_CHAT_ID"] = cfg.notify_chat_id
    if api_token_ref is not None and role == "api":  # continuation tokens are the API's
        settings[n.API_TOKEN_SETTING] = api_token_ref
    return settings


def vault_reference(vault_name: pulumi.Input[str], secret_name: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.concat("@Microsoft.KeyVault(VaultName=", vault_name, ";SecretName=", secret_name, ")")


class FunctionApp(pulumi.ComponentResource):
    """One Function App and its own Flex Consumption plan (Flex runs one app per plan)."""

    def __init__(self, cfg: StackConfig, names: Names, group: pulumi.Input[str], *, subscription_id: pulumi.Input[str],
                 storage, insights, realtime, security, tags: dict[str, str], role: str = "ingest") -> None:
        if role not in n.ROLE_SETTINGS:
            raise ValueError(f"unknown Function App role {role!r}")
        self.role = role
        # the ingest app keeps the names it had as the only app, so existing stacks update it in place
        self._prefix = "" if role == "ingest" else f"{role}-"
        super().__init__("spyglass:infra:FunctionApp", "functions" if role == "ingest" else f"functions-{role}")
        child = pulumi.ResourceOptions(parent=self)
        tag = "" if role == "ingest" else role  # in Azure names: plan-..., planapi-...
        self.plan = web.AppServicePlan(
            f"{self._prefix}plan", name=names.dashed(f"plan{tag}"), resource_group_name=group, location=cfg.location,
            kind="functionapp", reserved=True, sku={"name": "FC1", "tier": "FlexConsumption"}, tags=tags, opts=child)
        notify_ref = token_ref = None
        if security.notify_secret is not None:
            notify_ref = vault_reference(security.vault.name, security.notify_secret.name)
        if security.api_token_secret is not None:
            token_ref = vault_reference(security.vault.name, security.api_token_secret.name)
        self.settings: Mapping[str, pulumi.Input[str]] = app_settings(
            cfg, account_name=storage.account_name, insights_connection=insights.connection_string,
            signalr_uri=realtime.service_uri, notify_secret_ref=notify_ref, api_token_ref=token_ref, role=role)
        container = n.DEPLOYMENT_CONTAINER if role == "ingest" else n.API_DEPLOYMENT_CONTAINER
        self.app = web.WebApp(
            f"{self._prefix}func",
            name=names.dashed(f"func{tag}", unique=True),
            resource_group_name=group,
            location=cfg.location,
            kind="functionapp,linux",
            server_farm_id=self.plan.id,
            identity={"type": "SystemAssigned"},
            https_only=True,
            client_affinity_enabled=False,
            public_network_access="Enabled",  # a linked SWA backend must be publicly reachable
            site_config={
                "app_settings": [{"name": k, "value": v} for k, v in self.settings.items()],
                "min_tls_version": "1.2",
                "scm_min_tls_version": "1.2",
                "ftps_state": "Disabled",
                "http20_enabled": True,
                # browsers call /api on the dashboard host (same origin); no cross-origin caller is allowed
                "cors": {"allowed_origins": [], "support_credentials": False},
            },
            function_app_config={
                "deployment": {"storage": {
                    "type": "blobContainer",
                    "value": f"{storage.blob_endpoint}/{container}",
                    "authentication": {"type": "SystemAssignedIdentity"},
                }},
                "runtime": {"name": "python", "version": PYTHON_VERSION},
                "scale_and_concurrency": {
                    "instance_memory_mb": cfg.functions_memory_mb,
                    "maximum_instance_count": cfg.functions_max_instances,
                },
            },
            tags=tags,
            opts=child,
        )
        # Publishing with basic credentials (FTP, SCM user/password) is off: CI deploys with Entra (OIDC).
        for kind, resource in (("ftp", web.WebAppFtpAllowed), ("scm", web.WebAppScmAllowed)):
            resource(f"{self._prefix}{kind}-basic-auth-off", name=self.app.name, resource_group_name=group, allow=False,
                     opts=pulumi.ResourceOptions(parent=self.app))
        self.principal_id = self.app.identity.apply(lambda i: i.principal_id)
        self.role_assignments = self._grant(subscription_id, storage, realtime, security)
        self.default_host = self.app.default_host_name
        self.url = pulumi.Output.concat("https://", self.app.default_host_name)
        self.register_outputs({"url": self.url})

    def _grant(self, subscription_id, storage, realtime, security) -> list:
        grants = []

        def grant(name: str, role: str, scope: pulumi.Input[str]) -> None:
            grants.append(roles.assign(f"func-{self._prefix}{name}", role=role, scope=scope,
                                       principal_id=self.principal_id,
                                       subscription_id=subscription_id, parent=self))

        if self.role == "ingest":  # the API app neither consumes nor sends queue messages
            for queue_name, queue in storage.queues.items():
                grant(f"queue-{queue_name}", roles.STORAGE_QUEUE_DATA_CONTRIBUTOR, queue.id)
        for table_name, table in storage.tables.items():
            grant(f"table-{table_name}", roles.STORAGE_TABLE_DATA_CONTRIBUTOR, table.id)
        # the host's own containers (keys, timer locks) are created at runtime: account scope is required
        grant("blob-host", roles.STORAGE_BLOB_DATA_OWNER, storage.account.id)
        # SignalR in serverless mode: the negotiate binding mints client tokens and the output binding
        # calls the REST API; only Service Owner covers both (App Server lacks the REST API actions)
        grant("signalr", roles.SIGNALR_SERVICE_OWNER, realtime.signalr.id)
        if security.notify_secret is not None and self.role == "ingest":
            grant("kv-notify", roles.KEY_VAULT_SECRETS_USER, security.notify_secret.id)
        if security.api_token_secret is not None and self.role == "api":
            grant("kv-api-token", roles.KEY_VAULT_SECRETS_USER, security.api_token_secret.id)
        return grants
