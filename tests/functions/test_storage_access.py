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
