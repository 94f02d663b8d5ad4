"""Built-in Azure role definition ids (stable GUIDs, the same in every tenant) and one way to assign them.

Ids from Microsoft Learn, "Azure built-in roles".
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization

STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
STORAGE_QUEUE_DATA_MESSAGE_SENDER = "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a"
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
SIGNALR_SERVICE_OWNER = "7e4f1700-ea5a-4f59-8f37-079cfe29dce3"
SIGNALR_APP_SERVER = "420fcaa2-552c-430f-98ca-3264be4806c7"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"

ROLE_NAMES = {
    STORAGE_QUEUE_DATA_CONTRIBUTOR: "Storage Queue Data Contributor",
    STORAGE_QUEUE_DATA_MESSAGE_SENDER: "Storage Queue Data Message Sender",
    STORAGE_TABLE_DATA_CONTRIBUTOR: "Storage Table Data Contributor",
    STORAGE_BLOB_DATA_OWNER: "Storage Blob Data Owner",
    STORAGE_BLOB_DATA_CONTRIBUTOR: "Storage Blob Data Contributor",
    SIGNALR_SERVICE_OWNER: "SignalR Service Owner",
    SIGNALR_APP_SERVER: "SignalR App Server",
    KEY_VAULT_SECRETS_USER: "Key Vault Secrets User",
    ACR_PULL: "AcrPull",
}


def definition_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("/subscriptions/", subscription_id,
                                "/providers/Microsoft.Authorization/roleDefinitions/", role)


def assign(name: str, *, role: str, scope: pulumi.Input[str], principal_id: pulumi.Input[str],
           subscription_id: pulumi.Input[str], principal_type: str = "ServicePrincipal",
           parent: pulumi.Resource | None = None) -> authorization.RoleAssignment:
    """A role assignment; the description says which role, so the portal and the tests can read it."""
    return authorization.RoleAssignment(
        name,
        principal_id=principal_id,
        principal_type=principal_type,
        role_definition_id=definition_id(subscription_id, role),
        scope=scope,
        description=f"spyglass: {ROLE_NAMES[role]}",
        opts=pulumi.ResourceOptions(parent=parent),
    )
