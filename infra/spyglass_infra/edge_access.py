"""What the edge box may do in Azure: add snapshots, write claim-check blobs, read signals.

Default (`edgeAccess: sas`): three service SAS tokens, HTTPS only, with a fixed expiry from config:
  - queue `chain-snapshots`, permission `a` (add) only: it cannot read, peek, delete or clear;
  - container `claim-checks`, permissions `cw` (create, write): it cannot read, list or delete;
  - table `signals`, permission `r` (read) only, for the bot: behind the Static Web App the API only
    answers signed-in people, so the bot reads the table the API reads.
All are exported as secret outputs and go into the edge's Kubernetes secret. Revoke them by
rotating key1 (`az storage account keys renew --key key1`) and running `pulumi up`.

Alternative (`edgeAccess: entra`): no SAS at all and shared keys off on the account; an Entra app
registration with a federated credential (the edge cluster's service-account token issuer) gets
Storage Queue Data Message Sender on the queue and Blob Data Contributor on the container.
That needs a public OIDC issuer for the edge cluster; see infra/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import storage

from spyglass_infra import names as n
from spyglass_infra.config import StackConfig

QUEUE_PERMISSIONS = "a"
CLAIM_CHECK_PERMISSIONS = "cw"
SIGNALS_PERMISSIONS = "r"


@dataclass
class EdgeAccess:
    queue_url: pulumi.Output[str] | None
    claim_check_url: pulumi.Output[str] | None
    signals_url: pulumi.Output[str] | None = None


def edge_access(cfg: StackConfig, group: pulumi.Input[str], account) -> EdgeAccess:
    if cfg.edge_access != "sas":
        return EdgeAccess(None, None, None)
    depends = pulumi.InvokeOutputOptions(depends_on=[account.account, *account.queues.values(),
                                                     *account.tables.values(),
                                                     account.containers[n.CLAIM_CHECK_CONTAINER]])

    def sas_url(service: str, endpoint: str, resource_name: str, permissions: str, **extra: str) -> pulumi.Output[str]:
        """A secret URL to one resource with a service SAS: HTTPS only, signed with key1, expiring per config."""
        sas = storage.list_storage_account_service_sas_output(
            account_name=account.account_name, resource_group_name=group,
            canonicalized_resource=f"/{service}/{account.account_name}/{resource_name}", permissions=permissions,
            protocols="https", shared_access_expiry_time=cfg.edge_sas_expiry, key_to_sign="key1", opts=depends, **extra)
        return pulumi.Output.secret(pulumi.Output.concat(endpoint, "/", resource_name, "?", sas.service_sas_token))

    return EdgeAccess(
        queue_url=sas_url("queue", account.queue_endpoint, n.SNAPSHOT_QUEUE, QUEUE_PERMISSIONS),
        claim_check_url=sas_url("blob", account.blob_endpoint, n.CLAIM_CHECK_CONTAINER, CLAIM_CHECK_PERMISSIONS,
                                resource="c"),
        signals_url=sas_url("table", account.table_endpoint, n.TABLES["SIGNALS_TABLE"], SIGNALS_PERMISSIONS),
    )
