"""Who may call the data routes is an app setting, read when the routes are declared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA_ROUTES = {"list_anomalies", "get_anomaly", "chain_latest", "chain_at", "chain_history", "list_signals", "list_chains",
               "outcomes_summary",
               "negotiate"}
PROBE = """
import json, function_app
found = {}
for f in function_app.app.get_functions():
    for b in f.get_bindings_dict()["bindings"]:
        if b["type"] == "httpTrigger":
            found[f.get_function_name()] = str(b["authLevel"]).rsplit(".", 1)[-1]
print(json.dumps(found))
"""

def levels(value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "API_AUTH_LEVEL"}
    if value is not None:
        env["API_AUTH_LEVEL"] = value
    return subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("value", "expected"), [(None, "FUNCTION"), ("anonymous", "ANONYMOUS"), ("Function", "FUNCTION")])
def test_data_routes_follow_the_setting_and_health_stays_open(value, expected):
    run = levels(value)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(found) == DATA_ROUTES | {"health", "openapi"}, found
    assert {found[n].upper() for n in DATA_ROUTES} == {expected}
    assert found["health"].upper() == "ANONYMOUS" and found["openapi"].upper() == "ANONYMOUS"


def test_an_unknown_level_stops_the_app_with_the_setting_named():
    run = levels("admin")
    assert run.returncode != 0 and "API_AUTH_LEVEL" in run.stderr
