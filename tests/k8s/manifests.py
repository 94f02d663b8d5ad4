"""Loading the k8s/ tree for the tests: YAML documents, kustomizations, and rendering with kubectl if present."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
BASE = K8S / "base"
OVERLAYS = sorted(p for p in (K8S / "overlays").iterdir() if p.is_dir())
SECRET_TEMPLATES = sorted((K8S / "secrets").glob("*.template.yaml"))
NAMESPACE = "spy-options-bot"
CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}
KUBECTL = shutil.which("kubectl")


def docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def kustomization(directory: Path) -> dict:
    return yaml.safe_load((directory / "kustomization.yaml").read_text())


def base_resources() -> list[dict]:
    """The base's resources as kustomize would emit them, without kubectl: listed files plus generated
    ConfigMaps (hash suffixes are disabled in the base, so names match)."""
    k = kustomization(BASE)
    out = [d for f in k["resources"] for d in docs(BASE / f)]
    for gen in k.get("configMapGenerator", []):
        files = [BASE / f.split("=", 1)[-1] for f in gen["files"]]
        out.append({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": gen["name"], "labels": gen.get("options", {}).get("labels", {})},
                    "data": {f.name: f.read_text() for f in files}})
    return out


def find(resources: list[dict], kind: str, name: str) -> dict:
    return next(r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name)


def render(directory: Path) -> list[dict]:
    out = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]
