"""Site-to-site VPN to the edge, created only when `vpn.enabled` is set (it costs ~$140/month idle).

What uses the tunnel, honestly: nothing that this program deploys. The edge publishes snapshots
to the queue's public HTTPS endpoint with its SAS (or Entra token), the Function App, SignalR and
the Static Web App are public PaaS endpoints, and the VNet holds no private endpoints. The tunnel
is a place to land private traffic later (e.g. a storage private endpoint for the queue, which would
also need on-prem DNS forwarding for privatelink.queue.core.windows.net, and Flex VNet integration).

IKEv2 with an explicit IPsec policy, so the on-prem end (strongSwan, see infra/strongswan.py) can
be configured to exactly one proposal instead of negotiating from Azure's default list.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import network

from spyglass_infra.config import StackConfig
from spyglass_infra.naming import Names

# What infra/strongswan.py writes for the on-prem end; keep the two in step (the tests check it).
IPSEC_POLICY = {
    "ike_encryption": "AES256",
    "ike_integrity": "SHA256",
    "dh_group": "DHGroup14",
    "ipsec_encryption": "GCMAES256",
    "ipsec_integrity": "GCMAES256",
    "pfs_group": "PFS2048",
    "sa_life_time_seconds": 27000,
    "sa_data_size_kilobytes": 102400000,
}


class Network(pulumi.ComponentResource):
    def __init__(self, cfg: StackConfig, names: Names, group: pulumi.Input[str], tags: dict[str, str]) -> None:
        super().__init__("spyglass:infra:Network", "network")
        vpn = cfg.vpn
        child = pulumi.ResourceOptions(parent=self)
        self.vnet = network.VirtualNetwork(
            "vnet",
            virtual_network_name=names.dashed("vnet"),
            resource_group_name=group,
            location=cfg.location,
            address_space={"address_prefixes": [vpn.vnet_address_space]},
            subnets=[
                {"name": "GatewaySubnet", "address_prefix": vpn.gateway_subnet},  # name fixed by Azure
                {"name": "workload", "address_prefix": vpn.workload_subnet, "default_outbound_access": False},
            ],
            tags=tags,
            opts=child,
        )
        gateway_subnet_id = self.vnet.subnets.apply(
            lambda subnets: next(s.id for s in subnets if s.name == "GatewaySubnet"))
        self.public_ip = network.PublicIPAddress(
            "vpn-ip",
            public_ip_address_name=names.dashed("pip-vpn"),
            resource_group_name=group,
            location=cfg.location,
            sku={"name": "Standard", "tier": "Regional"},
            public_ip_allocation_method="Static",
            tags=tags,
            opts=child,
        )
        self.gateway = network.VirtualNetworkGateway(
            "vpn-gw",
            virtual_network_gateway_name=names.dashed("vgw"),
            resource_group_name=group,
            location=cfg.location,
            gateway_type="Vpn",
            vpn_type="RouteBased",
            vpn_gateway_generation="Generation1",
            sku={"name": vpn.gateway_sku, "tier": vpn.gateway_sku},
            enable_bgp=False,
            active_active=False,
            ip_configurations=[{
                "name": "default",
                "private_ip_allocation_method": "Dynamic",
                "subnet": {"id": gateway_subnet_id},
                "public_ip_address": {"id": self.public_ip.id},
            }],
            tags=tags,
            opts=child,
        )
        self.local = network.LocalNetworkGateway(
            "onprem",
            local_network_gateway_name=names.dashed("lgw-onprem"),
            resource_group_name=group,
            location=cfg.location,
            gateway_ip_address=vpn.on_prem_gateway_ip,
            local_network_address_space={"address_prefixes": list(vpn.on_prem_address_spaces)},
            tags=tags,
            opts=child,
        )
        self.connection = network.VirtualNetworkGatewayConnection(
            "vpn-conn",
            virtual_network_gateway_connection_name=names.dashed("cn-onprem"),
            resource_group_name=group,
            location=cfg.location,
            connection_type="IPsec",
            connection_protocol="IKEv2",
            virtual_network_gateway1={"id": self.gateway.id},
            local_network_gateway2={"id": self.local.id},
            shared_key=vpn.psk,
            ipsec_policies=[IPSEC_POLICY],
            use_policy_based_traffic_selectors=False,
            dpd_timeout_seconds=45,
            tags=tags,
            opts=child,
        )
        self.gateway_ip = self.public_ip.ip_address
        self.register_outputs({"gatewayIp": self.gateway_ip})
