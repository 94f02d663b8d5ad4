"""Offline schema validation: kubernetes-validate --strict against Kubernetes 1.32 for core kinds; the two
prometheus-operator CRDs (which kubernetes-validate has no schema for, it only warns) against small
schemas written from the operator's CRDs (tests/k8s/crd_schemas.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.k8s.crd_schemas import SCHEMAS
from tests.k8s.manifests import (BASE, CRD_KINDS, KUBECTL, NAMESPACE, OVERLAYS, SECRET_TEMPLATES, base_resources,
                                 kustomization, render)

VALIDATE = str(Path(sys.executable).with_name("kubernetes-validate"))
K8S_VERSION = "1.32.0"
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed: overlays cannot be rendered "
                                                           "(the pure-Python structure checks still run)")


def validate(path: Path) -> tuple[int, list[str]]:
    out = subprocess.run([VALIDATE, "--strict", "-k", K8S_VERSION, str(path)], capture_output=True, text=True,
                         timeout=120)
    lines = (out.stdout + out.stderr).splitlines()
    return out.returncode, [x for x in lines if x.startswith(("ERROR", "WARN")) or "Couldn't parse" in x]


def only_crd_warnings(problems: list[str]) -> bool:
    return all(p.startswith("WARN") and "Couldn't find schema for kind" in p
               and any(f"kind {k} with api version {v}" in p for v, k in CRD_KINDS) for p in problems)


@pytest.mark.parametrize("name", kustomization(BASE)["resources"])
def test_base_manifest_validates_strict(name):
    rc, problems = validate(BASE / name)
    assert rc == 0 and only_crd_warnings(problems), problems


@pytest.mark.parametrize("path", SECRET_TEMPLATES, ids=lambda p: p.name)
def test_secret_templates_validate_strict(path):
    rc, problems = validate(path)
    assert rc == 0 and not problems, problems


def test_the_validator_is_strict(tmp_path):
    """A misspelt field must fail: otherwise the checks above could not fail either."""
    docs = yaml.safe_load_all((BASE / "collector.yaml").read_text())
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFileSystem"] = True
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(deployment))
    rc, problems = validate(bad)
    assert rc != 0 and any("readOnlyRootFileSystem" in p for p in problems)


@pytest.mark.parametrize("api_version,kind", sorted(CRD_KINDS))
def test_crds_match_their_schema(api_version, kind):
    found = [r for r in base_resources() if r["apiVersion"] == api_version and r["kind"] == kind]
    assert found
    for r in found:
        jsonschema.validate(r, SCHEMAS[kind])
    broken = {**found[0], "spec": {**found[0]["spec"], "unexpected": 1}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMAS[kind])


@needs_kubectl
@pytest.mark.parametrize("target", [BASE, *OVERLAYS], ids=lambda p: p.name)
def test_rendered_validates_strict(target, tmp_path):
    resources = render(target)
    out = tmp_path / "rendered.yaml"
    out.write_text(yaml.safe_dump_all(resources))
    rc, problems = validate(out)
    assert rc == 0 and only_crd_warnings(problems), problems
    for r in resources:
        if (r["apiVersion"], r["kind"]) in CRD_KINDS:
            jsonschema.validate(r, SCHEMAS[r["kind"]])
        if r["kind"] != "Namespace":
            assert r["metadata"]["namespace"] == NAMESPACE, r["metadata"]
    assert not [r for r in resources if r["kind"] == "Secret"]
