"""Security and wiring of the Azure side, read from what the real program asks Azure for (mocked)."""

from __future__ import annotations

import pytest
from spyglass_infra import names as n
from spyglass_infra import roles

from functions.auth import API_AUTH_SETTING
from functions.realtime import SIGNALR_SETTING
from functions.settings import Settings
from functions.tokens import KEY_SETTING as TOKEN_SETTING
from spyglass.config import DetectorConfig
from spyglass.wire.queue import SNAPSHOT_QUEUE
from spyglass.wire.realtime import HUB
from tests.infra.harness import Deployment


def settings_of(d: Deployment, role: str = "ingest") -> dict[str, str]:
    return {s["name"]: s["value"] for s in d.app(role).inputs["siteConfig"]["appSettings"]}


def test_infra_names_are_the_apps_names():
    app = Settings()
    assert n.SNAPSHOT_QUEUE == SNAPSHOT_QUEUE
    assert n.TABLES == {"ANOMALIES_TABLE": app.anomalies_table, "CHAINSTATE_TABLE": app.chainstate_table,
                        "SIGNALS_TABLE": app.signals_table, "FAILURES_TABLE": app.failures_table}
    assert n.CLAIM_CHECK_CONTAINER == app.claim_container
    assert n.STORAGE_SETTING == app.storage_setting
    assert (n.SIGNALR_SETTING, n.SIGNALR_HUB) == (SIGNALR_SETTING, HUB)


def test_storage_account_is_locked_down(dev):
    st = dev.one("storage:StorageAccount").inputs
    assert st["enableHttpsTrafficOnly"] is True
    assert st["minimumTlsVersion"] == "TLS1_2"
    assert st["allowBlobPublicAccess"] is False
    assert st["defaultToOAuthAuthentication"] is True
    assert st["allowCrossTenantReplication"] is False
    assert all(c.inputs["publicAccess"] == "None" for c in dev.of("storage:BlobContainer"))


def test_shared_key_is_on_only_for_the_edge_sas(dev, dev_entra):
    # a queue SAS is signed with the account key: it works only while shared-key access is allowed
    assert dev.one("storage:StorageAccount").inputs["allowSharedKeyAccess"] is True
    assert dev_entra.one("storage:StorageAccount").inputs["allowSharedKeyAccess"] is False
    assert not dev_entra.call_args("azure-native:storage:listStorageAccountServiceSAS")
    assert "edgeQueueSasUrl" not in dev_entra.outputs


def test_queues_tables_and_containers_are_the_ones_the_app_uses(dev):
    assert {q.inputs["queueName"] for q in dev.of("storage:Queue")} == {SNAPSHOT_QUEUE, f"{SNAPSHOT_QUEUE}-poison"}
    assert {t.inputs["tableName"] for t in dev.of("storage:Table")} == {"anomalies", "chainstate", "signals", "failures"}
    assert {c.inputs["containerName"] for c in dev.of("storage:BlobContainer")} == {
        "claim-checks", "app-package", "app-package-api"}


@pytest.mark.parametrize("role", ["ingest", "api"])
def test_function_apps_are_flex_consumption_python_311_with_identity(dev, role):
    app = dev.app(role).inputs
    plan = dev.by_id(app["serverFarmId"]).inputs
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"} and plan["reserved"] is True
    assert app["kind"] == "functionapp,linux"
    assert app["identity"] == {"type": "SystemAssigned"}
    assert app["functionAppConfig"]["runtime"] == {"name": "python", "version": "3.11"}
    assert app["httpsOnly"] is True
    site = app["siteConfig"]
    assert (site["minTlsVersion"], site["scmMinTlsVersion"], site["ftpsState"]) == ("1.2", "1.2", "Disabled")
    assert site["cors"]["allowedOrigins"] == []  # the dashboard calls /api on its own origin
    basic = [r for r in dev.of("web:WebAppFtpAllowed") + dev.of("web:WebAppScmAllowed")
             if r.inputs["name"] == app["name"]]
    assert len(basic) == 2 and {r.inputs["allow"] for r in basic} == {False}


def test_the_api_and_ingest_are_two_apps_on_two_plans(dev):
    """Apart, scoring a backlog never holds the API's worker, and each app scales on its own (operations.md)."""
    ingest, api = dev.app("ingest").inputs, dev.app("api").inputs
    assert len(dev.of("web:WebApp")) == 2 and ingest["name"] != api["name"]
    assert ingest["serverFarmId"] != api["serverFarmId"] and len(dev.of("web:AppServicePlan")) == 2
    assert settings_of(dev, "ingest")["PYTHON_THREADPOOL_THREAD_COUNT"] == "2"  # scoring holds the GIL
    assert "PYTHON_THREADPOOL_THREAD_COUNT" not in settings_of(dev, "api")  # the API keeps the worker's default
    # apart from role and threads, the two apps are configured alike
    differ = {k for k in settings_of(dev, "ingest").keys() | settings_of(dev, "api").keys()
              if settings_of(dev, "ingest").get(k) != settings_of(dev, "api").get(k)}
    assert differ == {"SPYGLASS_APP_ROLE", "PYTHON_THREADPOOL_THREAD_COUNT"}


def test_the_app_roles_are_the_apps_and_the_local_stacks():
    from devstack import stack
    from functions import roles

    assert n.APP_ROLE_SETTING == roles.ROLE_SETTING == stack.ROLE_SETTING
    assert set(n.ROLE_SETTINGS) == set(roles.BLUEPRINTS)
    assert all(stack.ROLE_SETTINGS[role] == settings for role, settings in n.ROLE_SETTINGS.items())


@pytest.mark.parametrize(("role", "container"), [("ingest", n.DEPLOYMENT_CONTAINER), ("api", n.API_DEPLOYMENT_CONTAINER)])
def test_deployment_package_storage_uses_the_identity(dev, role, container):
    storage = dev.app(role).inputs["functionAppConfig"]["deployment"]["storage"]
    account = dev.one("storage:StorageAccount").inputs["accountName"]
    assert storage == {"type": "blobContainer", "authentication": {"type": "SystemAssignedIdentity"},
                       "value": f"https://{account}.blob.core.windows.net/{container}"}


def test_app_settings_use_identity_connections_and_the_apps_names(dev):
    s = settings_of(dev)
    account = dev.one("storage:StorageAccount").inputs["accountName"]
    signalr = dev.one("signalrservice:SignalR")
    assert s["AzureWebJobsStorage__accountName"] == account
    assert s[f"{SIGNALR_SETTING}__serviceUri"] == f"https://{signalr.state['hostName']}"
    assert "AzureWebJobsStorage" not in s and SIGNALR_SETTING not in s  # no connection strings at all
    assert (s["ANOMALIES_TABLE"], s["CHAINSTATE_TABLE"], s["SIGNALS_TABLE"]) == ("anomalies", "chainstate", "signals")
    assert s["CLAIM_CHECK_CONTAINER"] == "claim-checks"
    assert s[API_AUTH_SETTING] == "anonymous"  # the linked Static Web App is the gate (functions/auth.py)
    assert s["APPLICATIONINSIGHTS_CONNECTION_STRING"] == dev.one("applicationinsights:Component").state["connectionString"]
    for value in s.values():
        assert "AccountKey=" not in value and "AccessKey=" not in value and "sig=" not in value
    # Flex Consumption rejects these; the runtime comes from functionAppConfig
    assert not {"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE"} & set(s)


def test_detector_thresholds_become_settings_the_engine_reads(dev):
    s = settings_of(dev)
    detector = {k: v for k, v in s.items()
                if k.startswith("SPYGLASS_") and k not in ("SPYGLASS_CACHE_DIR", n.APP_ROLE_SETTING)}
    assert detector == {"SPYGLASS_SIGNAL_MIN_EDGE": "10.0", "SPYGLASS_VOLUME_RATIO": "12.0"}
    cfg = DetectorConfig.from_env(detector)  # the engine's own parser, on the settings as deployed
    assert (cfg.signal_min_edge, cfg.volume_ratio) == (10.0, 12.0)
    fields = {f"SPYGLASS_{f.upper()}" for f in DetectorConfig.__dataclass_fields__}
    assert set(detector) <= fields


def test_unknown_detector_key_is_refused():
    from spyglass_infra.config import ConfigError, _detectors

    with pytest.raises(ConfigError):
        _detectors({"Signal-Min-Edge": 3})


def grants(d: Deployment, role: str = "ingest") -> set[tuple[str, str]]:
    principals = {r.state["identity"]["principalId"] for r in d.of("web:WebApp")}
    principal = d.app(role).state["identity"]["principalId"]
    out = set()
    for ra in d.of("authorization:RoleAssignment"):
        assert ra.inputs["principalId"] in principals and ra.inputs["principalType"] == "ServicePrincipal"
        if ra.inputs["principalId"] == principal:
            out.add((ra.inputs["roleDefinitionId"].rsplit("/", 1)[1], ra.inputs["scope"]))
    return out


@pytest.mark.parametrize("role", ["ingest", "api"])
def test_role_assignments_are_scoped_to_what_the_app_touches(dev, role):
    queues = {q.inputs["queueName"]: q.id for q in dev.of("storage:Queue")}
    tables = {t.inputs["tableName"]: t.id for t in dev.of("storage:Table")}
    expected = {(roles.STORAGE_QUEUE_DATA_CONTRIBUTOR, i) for i in queues.values()} if role == "ingest" else set()
    expected |= {(roles.STORAGE_TABLE_DATA_CONTRIBUTOR, i) for i in tables.values()}
    expected.add((roles.STORAGE_BLOB_DATA_OWNER, dev.one("storage:StorageAccount").id))  # host containers
    expected.add((roles.SIGNALR_SERVICE_OWNER, dev.one("signalrservice:SignalR").id))
    assert grants(dev, role) == expected
    group = dev.one("resources:ResourceGroup").id
    assert all(scope != group and "/providers/" in scope for _, scope in grants(dev, role))


@pytest.mark.parametrize(("setting", "secret_name", "value", "role"), [
    ("NOTIFY_WEBHOOK_URL", "notify-webhook-url", "telegram", "ingest"),
    (TOKEN_SETTING, "api-token-key", "a-test-key", "api")])
def test_secrets_live_in_key_vault_and_only_those_secrets_are_readable(dev_vpn, setting, secret_name, value, role):
    secret = next(s for s in dev_vpn.of("keyvault:Secret") if s.inputs["secretName"] == secret_name)
    other = "api" if role == "ingest" else "ingest"
    assert (roles.KEY_VAULT_SECRETS_USER, secret.id) in grants(dev_vpn, role)
    assert (roles.KEY_VAULT_SECRETS_USER, secret.id) not in grants(dev_vpn, other)  # only the app that reads it
    assert setting not in settings_of(dev_vpn, other)
    s = settings_of(dev_vpn, role)
    vault = dev_vpn.one("keyvault:Vault").inputs["vaultName"]
    assert s[setting] == f"@Microsoft.KeyVault(VaultName={vault};SecretName={secret_name})"
    assert value not in " ".join(s.values())


def test_the_token_key_names_the_apps_setting_and_is_optional(dev):
    from spyglass_infra import names as n

    assert n.API_TOKEN_SETTING == TOKEN_SETTING
    assert TOKEN_SETTING not in settings_of(dev, "api") and not dev.of("keyvault:Secret")  # then each instance has its own


def test_signalr_is_serverless_keyless_and_admits_only_the_dashboard(dev):
    sig = dev.one("signalrservice:SignalR").inputs
    assert {"flag": "ServiceMode", "value": "Serverless"} in sig["features"]
    assert sig["disableLocalAuth"] is True
    site = dev.one("web:StaticSite")
    assert sig["cors"]["allowedOrigins"] == [f"https://{site.state['defaultHostname']}"]


def test_dashboard_links_the_api_app_and_leaves_its_auth_to_the_link(dev):
    site = dev.one("web:StaticSite").inputs
    assert site["sku"] == {"name": "Standard", "tier": "Standard"}  # linked backends need Standard
    backend = dev.one("web:StaticSiteLinkedBackend").inputs
    assert backend["backendResourceId"] == dev.app("api").id
    assert backend["name"] == site["name"]
    # the link configures the Function App's authentication; a second owner would fight it
    assert not [r for r in dev.resources if "AuthSettings" in r.type]
    # linked backends must be publicly reachable: no IP restrictions, no private endpoints
    app = dev.app("api").inputs
    assert app["publicNetworkAccess"] == "Enabled" and "ipSecurityRestrictions" not in app["siteConfig"]
    assert not dev.of("network:PrivateEndpoint")


def test_key_vault_uses_rbac_and_soft_delete(dev, prod):
    for d in (dev, prod):
        props = d.one("keyvault:Vault").inputs["properties"]
        assert props["enableRbacAuthorization"] is True and props["enableSoftDelete"] is True
        assert props["tenantId"] == "00000000-0000-0000-0000-0000000000bb"


def test_registry_is_basic_without_admin_user(dev):
    acr = dev.one("containerregistry:Registry").inputs
    assert acr["sku"] == {"name": "Basic"} and acr["adminUserEnabled"] is False


def test_application_insights_is_workspace_based(dev):
    appi = dev.one("applicationinsights:Component").inputs
    assert appi["workspaceResourceId"] == dev.one("operationalinsights:Workspace").id
    assert appi["ingestionMode"] == "LogAnalytics"
