"""Security and operational properties of the manifests, asserted on the parsed YAML (base, and each
rendered overlay where kubectl exists, so no patch weakens them)."""

from __future__ import annotations

import json
import re

import pytest
from prometheus_client import REGISTRY

import edge.bot.app  # noqa: F401 - registers the bot's series
import edge.collector.metrics  # noqa: F401 - registers the collector's series
from edge.bot.settings import BotSettings
from tests.k8s.manifests import BASE, KUBECTL, OVERLAYS, base_resources, find, render

OWN = {"spyglass-collector": 9100, "spyglass-bot": BotSettings().ops_port}
WRITABLE_ROOT_OK = {"ib-gateway"}  # the gateway image writes its settings beside the install (documented)
SPEC_SETS = [("base", lambda: base_resources())]
if KUBECTL:
    SPEC_SETS += [(p.name, lambda p=p: render(p)) for p in OVERLAYS]


@pytest.fixture(params=SPEC_SETS, ids=[n for n, _ in SPEC_SETS])
def resources(request):
    return request.param[1]()


def deployments(resources):
    return [r for r in resources if r["kind"] == "Deployment"]


def test_every_pod_is_locked_down(resources):
    assert len(deployments(resources)) == 3
    for d in deployments(resources):
        pod = d["spec"]["template"]["spec"]
        name = d["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod.get("automountServiceAccountToken") is False, name
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"], name
            assert sc["readOnlyRootFilesystem"] is (name not in WRITABLE_ROOT_OK), name
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            vols = {v["name"]: v for v in pod.get("volumes", [])}
            assert "emptyDir" in vols[mounts["/tmp"]], f"{name}: /tmp must be a writable emptyDir"
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{name} {kind}"


def test_own_containers_probe_healthz_and_readyz_on_the_ops_port(resources):
    for name, port in OWN.items():
        d = find(resources, "Deployment", name)
        [c] = d["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert ports["ops"] == port
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "ops"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}


def test_collector_is_single_and_recreated_and_the_bot_is_off(resources):
    collector = find(resources, "Deployment", "spyglass-collector")
    assert collector["spec"]["replicas"] == 1 and collector["spec"]["strategy"] == {"type": "Recreate"}
    text = (BASE / "collector.yaml").read_text()
    assert "client id" in text and "spool" in text, "the reason for Recreate must be written down"
    bot = find(resources, "Deployment", "spyglass-bot")
    assert bot["spec"]["replicas"] == 0
    config = find(resources, "ConfigMap", "spyglass-edge")["data"]
    assert config["SPYGLASS_BOT_MODE"] in ("off", "shadow")
    assert not any("LIVE_CONFIRM" in k for k in config)


def test_gateway_is_pinned_read_only_and_uses_the_secret(resources):
    gw = find(resources, "Deployment", "ib-gateway")
    [c] = gw["spec"]["template"]["spec"]["containers"]
    image, _, tag = c["image"].rpartition(":")
    assert image == "ghcr.io/gnzsnz/ib-gateway" and re.fullmatch(r"\d+\.\d+\.\w+", tag), c["image"]
    env = {e["name"]: e for e in c["env"]}
    assert env["READ_ONLY_API"]["value"] == "yes"
    for key in ("TWS_USERID", "TWS_PASSWORD"):
        assert "value" not in env[key]
        assert env[key]["valueFrom"]["secretKeyRef"]["name"] == "ib-gateway-credentials"
    for d in deployments(resources):
        for c in d["spec"]["template"]["spec"]["containers"]:
            for e in c.get("env", []):
                if re.search(r"PASSWORD|KEY|SAS|SECRET|TOKEN", e["name"]):
                    assert "valueFrom" in e and "value" not in e, e


def _applies(policy, labels):
    sel = policy["spec"]["podSelector"].get("matchLabels", {})
    return all(labels.get(k) == v for k, v in sel.items())


def _egress_ports(resources, labels):
    """Every (peer, port) that egress policies open for pods with these labels."""
    opened = set()
    for p in resources:
        if p["kind"] != "NetworkPolicy" or not _applies(p, labels):
            continue
        for rule in p["spec"].get("egress", []):
            for peer in rule.get("to", [{}]):
                if "ipBlock" in peer:
                    what = peer["ipBlock"]["cidr"]
                elif "podSelector" in peer and "namespaceSelector" not in peer:
                    what = json.dumps(peer["podSelector"]["matchLabels"], sort_keys=True)
                else:
                    what = "kube-dns" if peer.get("podSelector", {}).get("matchLabels", {}).get(
                        "k8s-app") == "kube-dns" else json.dumps(peer, sort_keys=True)
                for port in rule.get("ports", []):
                    opened.add((what, port["port"]))
    return opened


def test_network_default_deny_and_collector_reaches_only_gateway_https_dns(resources):
    deny = find(resources, "NetworkPolicy", "default-deny-all")["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    gateway = json.dumps({"app.kubernetes.io/name": "ib-gateway"}, sort_keys=True)
    for name in OWN:
        opened = _egress_ports(resources, {"app.kubernetes.io/name": name})
        assert opened == {("kube-dns", 53), (gateway, 4003), (gateway, 4004), ("0.0.0.0/0", 443)}, (name, opened)
    gw = find(resources, "NetworkPolicy", "ib-gateway")["spec"]
    sources = [peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for r in gw["ingress"] for peer in r["from"]]
    assert sorted(sources) == ["spyglass-bot", "spyglass-collector"]


def test_pvc_and_configmap_exist_and_are_mounted(resources):
    find(resources, "PersistentVolumeClaim", "spyglass-collector-data")
    collector = find(resources, "Deployment", "spyglass-collector")["spec"]["template"]["spec"]
    claims = {v["persistentVolumeClaim"]["claimName"] for v in collector["volumes"] if "persistentVolumeClaim" in v}
    assert claims == {"spyglass-collector-data"}
    cm = find(resources, "ConfigMap", "spyglass-edge")["data"]
    assert cm["SPOOL_PATH"].startswith("/data/")
    [c] = collector["containers"]
    assert {"configMapRef": {"name": "spyglass-edge"}} in c["envFrom"]


SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def _series():
    """Every series name the collector's metrics can expose (labelled families included before first use)."""
    names = set()
    for family in REGISTRY.collect():
        if family.name.startswith("spyglass_"):
            names |= {family.name + s for s in SUFFIXES.get(family.type, ("",))}
    return names


def _metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\bspyglass_[a-z_]+", expr))


def test_alerts_cover_the_three_conditions_with_real_metric_names(resources):
    rules = [r for g in find(resources, "PrometheusRule", "spyglass-edge")["spec"]["groups"] for r in g["rules"]]
    alerts = {r["alert"]: r["expr"] for r in rules if "alert" in r}
    assert "spyglass_collector_last_snapshot_timestamp_seconds" in alerts["SpyglassNoDataWhileMarketOpen"]
    assert "spyglass_collector_spool_depth" in alerts["SpyglassSpoolGrowing"]
    assert "spyglass_collector_connected" in alerts["SpyglassGatewayDisconnected"]
    known = _series()
    for r in rules:
        assert _metric_names(r["expr"]) <= known, _metric_names(r["expr"]) - known
        assert r["expr"].count("(") == r["expr"].count(")")


def test_grafana_dashboard_is_valid_json_over_real_series(resources):
    cm = find(resources, "ConfigMap", "spyglass-grafana-dashboard")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    dash = json.loads(cm["data"]["spyglass-edge.json"])
    assert dash["uid"] == "spyglass-edge" and dash["panels"]
    known = _series()
    for panel in dash["panels"]:
        for t in panel["targets"]:
            assert _metric_names(t["expr"]) and _metric_names(t["expr"]) <= known, t["expr"]


def test_service_monitor_selects_the_ops_services(resources):
    sm = find(resources, "ServiceMonitor", "spyglass-edge")["spec"]
    selected = [s for s in resources if s["kind"] == "Service"
                and all(s["metadata"].get("labels", {}).get(k) == v for k, v in sm["selector"]["matchLabels"].items())]
    assert {s["metadata"]["name"] for s in selected} == set(OWN)
    assert all(any(p["name"] == sm["endpoints"][0]["port"] for p in s["spec"]["ports"]) for s in selected)


def test_the_collector_args_are_options_of_the_image_entrypoint():
    """The pod gives only args: the image runs ``python -m edge.collector``, which must know every one."""
    import typer

    from edge.collector.cli import collect

    app = typer.Typer()
    app.command()(collect)
    known = {o for p in typer.main.get_command(app).params for o in p.opts if o.startswith("--")}
    collector = find(base_resources(), "Deployment", "spyglass-collector")
    [container] = collector["spec"]["template"]["spec"]["containers"]
    flags = [a for a in container["args"] if a.startswith("--")]
    assert flags and set(flags) <= known, set(flags) - known
