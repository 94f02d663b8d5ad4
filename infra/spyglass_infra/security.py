"""Key Vault (RBAC authorization, soft delete, purge protection in prod) and the edge image registry."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import containerregistry, keyvault

from spyglass_infra.config import StackConfig
from spyglass_infra.naming import Names

NOTIFY_SECRET = "notify-webhook-url"
API_TOKEN_SECRET = "api-token-key"


class Security(pulumi.ComponentResource):
    def __init__(self, cfg: StackConfig, names: Names, group: pulumi.Input[str], tenant_id: pulumi.Input[str],
                 tags: dict[str, str]) -> None:
        super().__init__("spyglass:infra:Security", "security")
        child = pulumi.ResourceOptions(parent=self)
        properties = {
            "tenant_id": tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "enable_rbac_authorization": True,  # no access policies: who reads a secret is an Azure role
            "enable_soft_delete": True,
            "soft_delete_retention_in_days": 90 if cfg.is_prod else 7,
            "public_network_access": "Enabled",  # the Flex app has no VNet integration by default
        }
        if cfg.is_prod:
            # Irreversible once on (a purge-protected vault cannot be purged for the retention period),
            # so dev leaves it unset to allow tear-down and re-create with the same name.
            properties["enable_purge_protection"] = True
        self.vault = keyvault.Vault(
            "kv", vault_name=names.dashed("kv", unique=True, limit=24), resource_group_name=group,
            location=cfg.location, properties=properties, tags=tags, opts=child)
        self.notify_secret: keyvault.Secret | None = None
        if cfg.notify_webhook_url is not None:
            self.notify_secret = keyvault.Secret(
                "notify-webhook-url", secret_name=NOTIFY_SECRET, vault_name=self.vault.name, resource_group_name=group,
                properties={"value": cfg.notify_webhook_url, "content_type": "text/plain"}, tags=tags,
                opts=pulumi.ResourceOptions(parent=self.vault))
        self.api_token_secret: keyvault.Secret | None = None
        if cfg.api_token_key is not None:  # one key for every instance, or a page may not verify on the next
            self.api_token_secret = keyvault.Secret(
                "api-token-key", secret_name=API_TOKEN_SECRET, vault_name=self.vault.name, resource_group_name=group,
                properties={"value": cfg.api_token_key, "content_type": "text/plain"}, tags=tags,
                opts=pulumi.ResourceOptions(parent=self.vault))
        self.registry = containerregistry.Registry(
            "acr", registry_name=names.compact("cr", 50), resource_group_name=group, location=cfg.location,
            sku={"name": "Basic"}, admin_user_enabled=False, tags=tags, opts=child)
        self.register_outputs({"vault": self.vault.name, "registry": self.registry.name})
