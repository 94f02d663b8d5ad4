"""Pure-Python checks of the kustomize tree (no kubectl needed): every reference resolves, nothing is left out."""

from __future__ import annotations

import pytest

from tests.k8s.manifests import BASE, K8S, NAMESPACE, OVERLAYS, SECRET_TEMPLATES, base_resources, docs, kustomization


def test_base_lists_every_manifest_and_each_exists():
    k = kustomization(BASE)
    listed = set(k["resources"])
    present = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present, f"unlisted: {present - listed}, missing: {listed - present}"
    for gen in k.get("configMapGenerator", []):
        for f in gen["files"]:
            assert (BASE / f.split("=", 1)[-1]).is_file(), f
    assert k["namespace"] == NAMESPACE


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_overlay_references_exist_and_patches_hit_base_resources(overlay):
    k = kustomization(overlay)
    assert k["namespace"] == NAMESPACE
    for r in k["resources"]:
        assert (overlay / r / "kustomization.yaml").is_file() or (overlay / r).is_file(), r
    patch_files = {p["path"] for p in k.get("patches", [])}
    present = {p.name for p in overlay.glob("*.yaml")} - {"kustomization.yaml"}
    assert patch_files == present, f"unused: {present - patch_files}, missing: {patch_files - present}"
    targets = {(r["kind"], r["metadata"]["name"]) for r in base_resources()}
    for f in patch_files:
        for d in docs(overlay / f):
            assert (d["kind"], d["metadata"]["name"]) in targets, f"{f} patches nothing in base"
    images = {i["name"] for i in k.get("images", [])}
    used = {c["image"].split(":")[0] for r in base_resources() if r["kind"] == "Deployment"
            for c in r["spec"]["template"]["spec"]["containers"]}
    assert images <= used, f"image overrides for unknown images: {images - used}"


def test_every_manifest_in_the_tree_is_accounted_for():
    """Each YAML file is a base resource, an overlay patch, a kustomization, or a secret template."""
    known = {BASE / f for f in kustomization(BASE)["resources"]} | set(SECRET_TEMPLATES)
    for overlay in OVERLAYS:
        known |= {overlay / p["path"] for p in kustomization(overlay).get("patches", [])}
    for path in K8S.rglob("*.yaml"):
        if path.name == "kustomization.yaml":
            continue
        assert path in known, f"{path.relative_to(K8S)} is not referenced by any kustomization"


def test_secrets_are_templates_only():
    assert not [r for r in base_resources() if r["kind"] == "Secret"], "secrets are created out of band"
    for path in SECRET_TEMPLATES:
        [secret] = docs(path)
        assert secret["kind"] == "Secret" and secret["metadata"]["namespace"] == NAMESPACE
        assert secret.get("data") is None
        assert all(v == "" for v in secret["stringData"].values()), f"{path.name} carries a value"
        for overlay in [BASE, *OVERLAYS]:
            assert path.name not in str(kustomization(overlay))
