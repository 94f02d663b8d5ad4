"""The dashboard: a Static Web App (Standard, the plan that links a backend) fronting the Function App.

Decision on auth (docs/operations.md "Open point"): the SWA is linked to the Function App as its
backend. Linking configures App Service authentication on the Function App with the "Azure Static
Web Apps (Linked)" provider, so the Function App answers only requests proxied by this site; direct
calls to *.azurewebsites.net get 401 (Microsoft Learn, "Bring your own functions to Azure Static Web
Apps", Security constraints). The proxy does not add function keys, so routes the dashboard calls
must be `authLevel: anonymous` at the Functions layer; the gate is the platform's, not a key the
browser would have to hold. This program therefore (a) links the backend, (b) never manages the
Function App's auth settings itself (the link owns them; managing them here would fight it), and
(c) keeps the Function App publicly reachable without IP rules or private endpoints, which linked
backends require. See infra/README.md "Dashboard → API auth".
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import web

from spyglass_infra.config import StackConfig
from spyglass_infra.naming import Names


class Dashboard(pulumi.ComponentResource):
    def __init__(self, cfg: StackConfig, names: Names, group: pulumi.Input[str], tags: dict[str, str]) -> None:
        super().__init__("spyglass:infra:Dashboard", "dashboard")
        self._group = group
        self.site = web.StaticSite(
            "swa",
            name=names.dashed("swa"),
            resource_group_name=group,
            location=cfg.static_web_location,  # SWA runs in a few regions only (eastus2, centralus, westus2, ...)
            sku={"name": "Standard", "tier": "Standard"},
            staging_environment_policy="Disabled",  # PR previews cannot use a linked backend, and would be public
            allow_config_file_updates=True,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.host = self.site.default_hostname
        self.url = pulumi.Output.concat("https://", self.site.default_hostname)
        self.backend: web.StaticSiteLinkedBackend | None = None

    def link(self, function_app: web.WebApp, region: str) -> web.StaticSiteLinkedBackend:
        """`/api/*` on the dashboard host proxies, whole path included, to the Function App."""
        self.backend = web.StaticSiteLinkedBackend(
            "swa-backend",
            name=self.site.name,
            resource_group_name=self._group,
            linked_backend_name="functions",
            backend_resource_id=function_app.id,
            region=region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"url": self.url})
        return self.backend
