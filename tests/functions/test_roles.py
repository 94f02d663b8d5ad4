"""SPYGLASS_APP_ROLE: the API app serves every HTTP route and consumes nothing; ingest is the queue and the timer."""

from __future__ import annotations

import json
import os
import pkgutil
import re
import subprocess
import sys

import pytest

import functions
from devstack.proc import REPO
from functions.roles import BLUEPRINTS, ROLE_SETTING, blueprint_modules, role_of

INDEX = """
import json, function_app
print(json.dumps({f.get_function_name(): f.get_trigger().get_binding_name() for f in function_app.app.get_functions()}))
"""


def triggers(role: str | None) -> dict[str, str]:
    """{function: trigger type} that function_app.py registers with this role, in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k != ROLE_SETTING} | ({ROLE_SETTING: role} if role else {})
    out = subprocess.run([sys.executable, "-c", INDEX], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def apps() -> dict[str | None, dict[str, str]]:
    return {role: triggers(role) for role in (None, "all", "api", "ingest")}


def test_the_split_apps_together_are_the_whole_app(apps):
    api, ingest, whole = apps["api"], apps["ingest"], apps[None]
    assert apps["all"] == whole
    assert set(api) | set(ingest) == set(whole) and not set(api) & set(ingest)


def test_the_api_app_has_every_http_route_and_no_trigger_that_scores(apps):
    http = {name for name, trigger in apps[None].items() if trigger == "httpTrigger"}
    assert {"health", "list_anomalies", "negotiate", "openapi"} <= http
    assert set(apps["api"]) == http


def test_the_ingest_app_has_the_queue_and_the_timer_only(apps):
    assert apps["ingest"] == {"ingest": "queueTrigger", "retention": "timerTrigger"}


def test_every_blueprint_module_belongs_to_a_role():
    """A new blueprint left out of BLUEPRINTS would be deployed nowhere."""
    with_bp = {m.name for m in pkgutil.iter_modules(functions.__path__)
               if re.search(r"^bp = func\.Blueprint\(\)", (REPO / "functions" / f"{m.name}.py").read_text()
                            if not m.ispkg else "", re.M)}
    assert with_bp == set(blueprint_modules("all"))
    assert sorted(blueprint_modules("all")) == sorted(m for mods in BLUEPRINTS.values() for m in mods)


@pytest.mark.parametrize("value", ["API", " ingest ", ""])
def test_role_setting_is_read_loosely(value):
    assert role_of({ROLE_SETTING: value}) == (value.strip().lower() or "all")


def test_an_unknown_role_is_a_clear_error():
    with pytest.raises(ValueError, match="SPYGLASS_APP_ROLE='apis': expected one of all, api, ingest"):
        role_of({ROLE_SETTING: "apis"})
    failed = subprocess.run([sys.executable, "-c", "import function_app"], cwd=REPO, capture_output=True, text=True,
                            env={**os.environ, ROLE_SETTING: "apis"})
    assert failed.returncode != 0 and "expected one of all, api, ingest" in failed.stderr
