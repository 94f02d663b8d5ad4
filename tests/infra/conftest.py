"""Pulumi mock deployments, built once per session: the azure-native import and each run are not free."""

from __future__ import annotations

import pytest

from tests.infra.harness import Deployment, deploy, stack_config

VPN = {
    "spyglass:vpn": {"enabled": True, "onPremGatewayIp": "203.0.113.10",
                     "onPremAddressSpaces": ["192.168.50.0/24"]},
}
VPN_PSK = {"spyglass:vpnPsk": "correct-horse-battery-staple-0123456789"}
NOTIFY = {"spyglass:notifyWebhookUrl": "https://api.telegram.org/botTOKEN/sendMessage",
          "spyglass:alertWebhookUrl": "https://hooks.example.com/spyglass",
          "spyglass:apiTokenKey": "a-test-key-that-is-long-enough-0123456789"}


@pytest.fixture(scope="session")
def dev() -> Deployment:
    return deploy(stack_config("dev"), "dev")


@pytest.fixture(scope="session")
def prod() -> Deployment:
    return deploy(stack_config("prod"), "prod")


@pytest.fixture(scope="session")
def dev_vpn() -> Deployment:
    """dev with the tunnel and both optional secrets, to see everything the program can create."""
    return deploy({**stack_config("dev"), **VPN}, "dev", secrets={**VPN_PSK, **NOTIFY})


@pytest.fixture(scope="session")
def dev_entra() -> Deployment:
    return deploy({**stack_config("dev"), "spyglass:edgeAccess": "entra"}, "dev")
