"""The Functions app against a real Azurite: functions are called with real azure.functions objects."""

from __future__ import annotations

import os

import azure.functions as func
import pytest

from devstack.azurite import Azurite


@pytest.fixture(scope="module")
def azurite():
    with Azurite(in_memory=True) as az:
        yield az


@pytest.fixture(scope="module")
def app(azurite):
    """The registered user functions by name, with storage pointed at this Azurite."""
    os.environ["AzureWebJobsStorage"] = azurite.connection_string
    from functions import settings, storage

    for cached in (settings.settings, storage.access, storage.table_service, storage.blob_service, storage.table,
                   storage.queue):
        cached.cache_clear()
    import function_app

    return {f.get_function_name(): f.get_user_function() for f in _functions(function_app.app)}


_INDEXED: list = []


def _functions(app):
    """``get_functions()`` may be called once per process: index once, reuse."""
    if not _INDEXED:
        _INDEXED.extend(app.get_functions())
    return _INDEXED


class Out:
    """What the host passes for an output binding: a settable holder."""

    def __init__(self) -> None:
        self.value = None

    def set(self, value) -> None:
        self.value = value

    def get(self):
        return self.value


def get(path: str, **params: str) -> func.HttpRequest:
    return func.HttpRequest(method="GET", url=f"http://localhost/api/{path}", params=params, body=b"",
                            route_params={})
