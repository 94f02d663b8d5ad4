"""The on-prem strongSwan config, rendered from the outputs of a real (mocked) VPN-enabled stack."""

from __future__ import annotations

import base64
import json
import re
import stat

import pytest
import strongswan  # infra/strongswan.py (the harness put infra/ on sys.path)

from tests.infra.conftest import VPN_PSK

PSK = VPN_PSK["spyglass:vpnPsk"]


def parse(text: str) -> dict:
    """swanctl.conf's `name { key = value }` nesting as dicts; fails on unbalanced braces."""
    root: dict = {}
    stack = [root]
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.endswith("{"):
            child: dict = {}
            stack[-1][line[:-1].strip()] = child
            stack.append(child)
        elif line == "}":
            stack.pop()
        else:
            key, value = (p.strip() for p in line.split("=", 1))
            stack[-1][key] = value
    assert len(stack) == 1, "unbalanced braces"
    return root


@pytest.fixture(scope="module")
def conf(dev_vpn) -> dict:
    return parse(strongswan.render(dev_vpn.outputs, PSK))


def test_connection_matches_the_azure_side(conf, dev_vpn):
    conn = conf["connections"]["azure-spyglass"]
    azure_ip = dev_vpn.one("network:PublicIPAddress").state["ipAddress"]
    assert conn["version"] == "2" and conn["remote_addrs"] == azure_ip
    assert conn["remote"] == {"auth": "psk", "id": azure_ip}
    assert conn["local"] == {"auth": "psk", "id": "203.0.113.10"}
    child = conn["children"]["azure-spyglass"]
    assert child["local_ts"] == "192.168.50.0/24"
    assert child["remote_ts"] == dev_vpn.one("network:VirtualNetwork").inputs["addressSpace"]["addressPrefixes"][0]


def test_proposals_are_exactly_the_policy_azure_was_given(conf, dev_vpn):
    policy = dev_vpn.one("network:VirtualNetworkGatewayConnection").inputs["ipsecPolicies"][0]
    assert (policy["ikeEncryption"], policy["ikeIntegrity"], policy["dhGroup"]) == ("AES256", "SHA256", "DHGroup14")
    assert (policy["ipsecEncryption"], policy["pfsGroup"]) == ("GCMAES256", "PFS2048")
    conn = conf["connections"]["azure-spyglass"]
    assert conn["proposals"] == "aes256-sha256-modp2048"
    child = conn["children"]["azure-spyglass"]
    assert child["esp_proposals"] == "aes256gcm16-modp2048"
    assert child["life_time"] == f"{int(policy['saLifeTimeSeconds'])}s"
    assert int(child["rekey_time"][:-1]) < int(policy["saLifeTimeSeconds"])


def test_psk_is_in_the_secrets_section_only(conf):
    secret = conf["secrets"]["ike-azure-spyglass"]["secret"]
    assert secret.startswith("0s") and base64.b64decode(secret[2:]).decode() == PSK
    assert PSK not in json.dumps(conf["connections"])


def test_cbc_policy_adds_integrity_and_none_pfs_drops_it():
    policy = {"ike_encryption": "AES128", "ike_integrity": "SHA384", "dh_group": "ECP384",
              "ipsec_encryption": "AES256", "ipsec_integrity": "SHA256", "pfs_group": "None"}
    assert strongswan.proposals(policy) == ("aes128-sha384-ecp384", "aes256-sha256")


def test_stack_without_vpn_is_a_clear_error(dev):
    with pytest.raises(strongswan.RenderError, match="vpn.enabled"):
        strongswan.render(dev.outputs, PSK)


def test_unmapped_algorithm_is_a_clear_error(dev_vpn):
    outputs = json.loads(json.dumps(dev_vpn.outputs))
    outputs["vpn"]["ipsecPolicy"]["dh_group"] = "DHGroup1"
    with pytest.raises(strongswan.RenderError, match="DHGroup1"):
        strongswan.render(outputs, PSK)


def test_cli_writes_a_private_file(dev_vpn, tmp_path, monkeypatch, capsys):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(dev_vpn.outputs))
    target = tmp_path / "azure.conf"
    monkeypatch.setenv("SPYGLASS_VPN_PSK", PSK)
    assert strongswan.main([str(outputs), "-o", str(target)]) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert re.search(r"remote_addrs = 20\.42\.0\.7", target.read_text())
    monkeypatch.setenv("SPYGLASS_VPN_PSK", "")
    assert strongswan.main([str(outputs)]) == 2
    assert "PSK" in capsys.readouterr().err
