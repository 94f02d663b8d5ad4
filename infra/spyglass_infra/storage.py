"""The storage account: snapshot queues, the app's tables, the claim-check and deployment containers.

Secure by default: HTTPS only, TLS 1.2, no anonymous blob access, Entra ID as the portal default.
Shared-key access stays on only while the edge uses a SAS: a queue SAS is signed with the account
key, and Azure rejects every key-signed SAS once shared-key access is off (user-delegation SAS
exists for blobs only). With `edgeAccess: entra` shared keys are off and nothing uses them.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import storage

from spyglass_infra import names as n
from spyglass_infra.config import StackConfig
from spyglass_infra.naming import Names


class Storage(pulumi.ComponentResource):
    def __init__(self, cfg: StackConfig, names: Names, group: pulumi.Input[str], tags: dict[str, str]) -> None:
        super().__init__("spyglass:infra:Storage", "storage")
        child = pulumi.ResourceOptions(parent=self)
        self.account_name = names.compact("st", 24)
        self.account = storage.StorageAccount(
            "st",
            account_name=self.account_name,
            resource_group_name=group,
            location=cfg.location,
            kind="StorageV2",
            sku={"name": "Standard_ZRS" if cfg.is_prod else "Standard_LRS"},
            access_tier="Hot",
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            allow_shared_key_access=cfg.edge_access == "sas",
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            public_network_access="Enabled",  # the edge and the Flex app reach it over the internet
            tags=tags,
            opts=child,
        )
        scoped = pulumi.ResourceOptions(parent=self.account)
        self.queues = {
            name: storage.Queue(f"queue-{name}", queue_name=name, account_name=self.account.name,
                                resource_group_name=group, opts=scoped)
            for name in (n.SNAPSHOT_QUEUE, n.POISON_QUEUE)
        }
        self.tables = {
            name: storage.Table(f"table-{name}", table_name=name, account_name=self.account.name,
                                resource_group_name=group, opts=scoped)
            for name in n.TABLES.values()
        }
        self.containers = {
            name: storage.BlobContainer(f"container-{name}", container_name=name, account_name=self.account.name,
                                        resource_group_name=group, public_access="None", opts=scoped)
            for name in (n.CLAIM_CHECK_CONTAINER, n.DEPLOYMENT_CONTAINER, n.API_DEPLOYMENT_CONTAINER)
        }
        # Claim-check payloads are read once by ingest; a week covers replays from the poison queue.
        self.lifecycle = storage.ManagementPolicy(
            "lifecycle",
            account_name=self.account.name,
            resource_group_name=group,
            management_policy_name="default",
            policy={"rules": [{
                "name": "expire-claim-checks",
                "enabled": True,
                "type": "Lifecycle",
                "definition": {
                    "filters": {"blob_types": ["blockBlob"], "prefix_match": [f"{n.CLAIM_CHECK_CONTAINER}/"]},
                    "actions": {"base_blob": {"delete": {"days_after_modification_greater_than": 7}}},
                },
            }]},
            opts=scoped,
        )
        self.blob_endpoint = f"https://{self.account_name}.blob.core.windows.net"
        self.queue_endpoint = f"https://{self.account_name}.queue.core.windows.net"
        self.table_endpoint = f"https://{self.account_name}.table.core.windows.net"
        self.register_outputs({"account": self.account.name})
