"""The resource group and the telemetry sink: Log Analytics with workspace-based Application Insights."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import applicationinsights, operationalinsights, resources

from spyglass_infra.config import StackConfig
from spyglass_infra.naming import Names


class Base(pulumi.ComponentResource):
    def __init__(self, cfg: StackConfig, names: Names, tags: dict[str, str]) -> None:
        super().__init__("spyglass:infra:Base", "base")
        child = pulumi.ResourceOptions(parent=self)
        self.group = resources.ResourceGroup(
            "rg", resource_group_name=names.dashed("rg"), location=cfg.location, tags=tags, opts=child)
        self.workspace = operationalinsights.Workspace(
            "log",
            workspace_name=names.dashed("log"),
            resource_group_name=self.group.name,
            location=cfg.location,
            sku={"name": "PerGB2018"},
            retention_in_days=30,  # the free retention; longer costs per GB-month
            # dev caps ingestion so a log storm cannot run up the bill; prod keeps everything
            workspace_capping=None if cfg.is_prod else {"daily_quota_gb": 0.5},
            tags=tags,
            opts=child,
        )
        self.insights = applicationinsights.Component(
            "appi",
            resource_name_=names.dashed("appi"),
            resource_group_name=self.group.name,
            location=cfg.location,
            kind="web",
            application_type="web",
            ingestion_mode="LogAnalytics",
            workspace_resource_id=self.workspace.id,
            tags=tags,
            opts=child,
        )
        self.register_outputs({"group": self.group.name})
