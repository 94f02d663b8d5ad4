"""The Functions app against a real Azurite: functions are called with real azure.functions objects."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import azure.functions as func
import pytest

from devstack.azurite import Azurite
from spyglass.clock import CLOCK_SETTING


@pytest.fixture(scope="module")
def azurite():
    with Azurite(in_memory=True) as az:
        yield az


APP_CLOCK = datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc)  # the tests' snapshots are from this day


@pytest.fixture(scope="module")
def app(azurite):
    """The registered user functions by name, with storage pointed at this Azurite and the clock on the test day."""
    os.environ["AzureWebJobsStorage"] = azurite.connection_string
    from functions import settings, storage

    os.environ[CLOCK_SETTING] = str((APP_CLOCK - datetime.now(timezone.utc)).total_seconds())

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
