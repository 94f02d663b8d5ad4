"""Storage settings as the Functions runtime reads them: connection string, or identity-based."""

import pytest

from functions import storage


@pytest.fixture
def env(monkeypatch):
    for name in ("AzureWebJobsStorage", "AzureWebJobsStorage__accountName", "AzureWebJobsStorage__clientId",
                 "AzureWebJobsStorage__tableServiceUri", "AzureWebJobsStorage__queueServiceUri",
                 "AzureWebJobsStorage__blobServiceUri"):
        monkeypatch.delenv(name, raising=False)
    storage.access.cache_clear()
    yield monkeypatch
    storage.access.cache_clear()


def test_identity_based_connection_uses_the_account_endpoints_and_managed_identity(env):
    env.setenv("AzureWebJobsStorage__accountName", "spyglassdev")
    env.setenv("AzureWebJobsStorage__clientId", "00000000-0000-0000-0000-000000000001")
    a = storage.access()
    assert a.connection_string is None
    assert a.endpoints == {"table": "https://spyglassdev.table.core.windows.net",
                           "queue": "https://spyglassdev.queue.core.windows.net",
                           "blob": "https://spyglassdev.blob.core.windows.net"}
    assert type(a.credential()).__name__ == "ManagedIdentityCredential"


def test_service_uris_override_and_connection_string_wins(env):
    env.setenv("AzureWebJobsStorage__tableServiceUri", "https://t.example/")
    assert storage.access().endpoints == {"table": "https://t.example/"}
    storage.access.cache_clear()
    env.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    assert storage.access().connection_string == "UseDevelopmentStorage=true"


def test_missing_settings_say_which(env):
    with pytest.raises(RuntimeError, match="AzureWebJobsStorage__accountName"):
        storage.access()


@pytest.mark.parametrize(("setting", "value", "creates"), [
    ("AzureWebJobsStorage__accountName", "spyglassdev", False),  # roles scoped to existing tables/queues
    ("AzureWebJobsStorage", "UseDevelopmentStorage=true", True),  # Azurite: create on first use
])
def test_tables_and_queues_are_created_only_with_a_connection_string(env, setting, value, creates):
    from azure.data.tables import TableClient
    from azure.storage.queue import QueueClient

    created = []
    env.setattr(TableClient, "create_table", lambda self: created.append(self.table_name))
    env.setattr(QueueClient, "create_queue", lambda self: created.append(self.queue_name))
    env.setenv(setting, value)
    for cached in (storage.table_service, storage.table, storage.queue):
        cached.cache_clear()
    try:
        storage.table("anomalies")
        storage.queue("chain-snapshots")
    finally:
        for cached in (storage.table_service, storage.table, storage.queue):
            cached.cache_clear()
    assert created == (["anomalies", "chain-snapshots"] if creates else [])
