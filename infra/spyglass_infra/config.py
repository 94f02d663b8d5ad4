"""Stack configuration: every `spyglass:*` key, parsed and checked once, with the dev/prod defaults.

Kept free of resource code so the tests (and `strongswan.py`) can reason about it directly.
Every key is documented in infra/README.md ("Config keys").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

ENVIRONMENTS = ("dev", "prod")
SIGNALR_SKU = {"dev": ("Free_F1", "Free"), "prod": ("Standard_S1", "Standard")}
_ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DETECTOR_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_TIMEZONE = re.compile(r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$")  # IANA name; it is interpolated into KQL
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Vpn:
    enabled: bool = False
    on_prem_gateway_ip: str = ""
    on_prem_address_spaces: tuple[str, ...] = ()
    vnet_address_space: str = "10.60.0.0/16"
    gateway_subnet: str = "10.60.255.0/27"
    workload_subnet: str = "10.60.1.0/24"
    gateway_sku: str = "VpnGw1"
    psk: pulumi.Output[str] | None = None


@dataclass(frozen=True)
class MarketHours:
    """When the "no snapshots" alert may fire: exchange-local weekdays, minus listed holidays."""

    timezone: str = "America/New_York"
    open: str = "09:35"  # 5 minutes after the bell, so the 5-minute window lies inside the session
    close: str = "16:00"
    holidays: tuple[str, ...] = ()
    early_closes: tuple[str, ...] = ()  # sessions that end at `early_close` (day after Thanksgiving, Dec 24)
    early_close: str = "13:00"


@dataclass(frozen=True)
class StackConfig:
    env: str
    location: str
    static_web_location: str
    prefix: str
    suffix: str
    budget_amount: float
    budget_start: str
    alert_emails: tuple[str, ...]
    edge_access: str  # "sas" (default) or "entra"
    edge_sas_expiry: str
    functions_memory_mb: int = 2048
    functions_max_instances: int = 40
    retention_days: int = 30
    detectors: Mapping[str, str] = field(default_factory=dict)
    notify_min_severity: str = "high"
    notify_max_per_minute: int = 6
    notify_chat_id: str = ""
    notify_webhook_url: pulumi.Output[str] | None = None
    api_token_key: pulumi.Output[str] | None = None  # signs the API's continuation tokens (functions/tokens.py)
    alert_webhook_url: pulumi.Output[str] | None = None
    market: MarketHours = field(default_factory=MarketHours)
    vpn: Vpn = field(default_factory=Vpn)
    owner: str = "spyglass"

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"

    @property
    def signalr_sku(self) -> tuple[str, str]:
        return SIGNALR_SKU[self.env]


class ConfigError(ValueError):
    """A stack config value that would deploy something wrong; raised before any resource exists."""


def load(cfg: pulumi.Config | None = None, stack: str | None = None) -> StackConfig:
    cfg = cfg or pulumi.Config("spyglass")
    stack = stack or pulumi.get_stack()
    env = cfg.get("env") or stack
    if env not in ENVIRONMENTS:
        raise ConfigError(f"spyglass:env must be one of {ENVIRONMENTS}, got {env!r}")
    edge_access = cfg.get("edgeAccess") or "sas"
    if edge_access not in ("sas", "entra"):
        raise ConfigError(f"spyglass:edgeAccess must be 'sas' or 'entra', got {edge_access!r}")
    expiry = cfg.get("edgeSasExpiry") or ""
    if edge_access == "sas" and not _ISO_UTC.match(expiry):
        raise ConfigError("spyglass:edgeSasExpiry must be set as YYYY-MM-DDTHH:MM:SSZ when edgeAccess is 'sas'")
    budget_start = cfg.require("budgetStartDate")
    if not _DATE.match(budget_start) or not budget_start.endswith("-01"):
        raise ConfigError("spyglass:budgetStartDate must be the first day of a month (YYYY-MM-01)")
    emails = tuple(cfg.get_object("alertEmails") or ())
    if not emails and not cfg.get("alertWebhookUrl"):
        raise ConfigError("set spyglass:alertEmails or spyglass:alertWebhookUrl: alerts need somewhere to go")
    return StackConfig(
        env=env,
        location=cfg.get("location") or "eastus",
        static_web_location=cfg.get("staticWebLocation") or "eastus2",
        prefix=cfg.get("prefix") or "spyglass",
        suffix=cfg.get("suffix") or "",
        budget_amount=float(cfg.require("budgetAmount")),
        budget_start=budget_start,
        alert_emails=emails,
        edge_access=edge_access,
        edge_sas_expiry=expiry,
        functions_memory_mb=cfg.get_int("functionsMemoryMb") or 2048,
        functions_max_instances=cfg.get_int("functionsMaxInstances") or 40,
        retention_days=cfg.get_int("retentionDays") or 30,
        detectors=_detectors(cfg.get_object("detectors") or {}),
        notify_min_severity=cfg.get("notifyMinSeverity") or "high",
        notify_max_per_minute=cfg.get_int("notifyMaxPerMinute") or 6,
        notify_chat_id=cfg.get("notifyChatId") or "",
        notify_webhook_url=cfg.get_secret("notifyWebhookUrl"),
        api_token_key=cfg.get_secret("apiTokenKey"),
        alert_webhook_url=cfg.get_secret("alertWebhookUrl"),
        market=_market(cfg.get_object("marketHours") or {}),
        vpn=_vpn(cfg.get_object("vpn") or {}, cfg.get_secret("vpnPsk")),
        owner=cfg.get("owner") or "spyglass",
    )


def _detectors(raw: Mapping[str, Any]) -> dict[str, str]:
    """Detector thresholds keyed by DetectorConfig field name; they become SPYGLASS_<FIELD> settings."""
    out = {}
    for key, value in raw.items():
        if not _DETECTOR_KEY.match(key):
            raise ConfigError(f"spyglass:detectors key {key!r} is not a DetectorConfig field name")
        out[key] = str(value)
    return out


def _market(raw: Mapping[str, Any]) -> MarketHours:
    base = MarketHours()
    for key in ("open", "close", "earlyClose"):
        if key in raw and not _HH_MM.match(str(raw[key])):
            raise ConfigError(f"spyglass:marketHours.{key} must be HH:MM, got {raw[key]!r}")
    if "timezone" in raw and not _TIMEZONE.match(str(raw["timezone"])):
        raise ConfigError(f"spyglass:marketHours.timezone must be an IANA name, got {raw['timezone']!r}")
    for key in ("holidays", "earlyCloses"):
        bad = [d for d in raw.get(key, ()) if not _DATE.match(str(d))]
        if bad:
            raise ConfigError(f"spyglass:marketHours.{key} must list YYYY-MM-DD dates, got {bad}")
    return MarketHours(
        timezone=raw.get("timezone", base.timezone),
        open=raw.get("open", base.open),
        close=raw.get("close", base.close),
        holidays=tuple(raw.get("holidays", ())),
        early_closes=tuple(raw.get("earlyCloses", ())),
        early_close=raw.get("earlyClose", base.early_close),
    )


def _vpn(raw: Mapping[str, Any], psk: pulumi.Output[str] | None) -> Vpn:
    if not raw.get("enabled", False):
        return Vpn()
    if psk is None:
        raise ConfigError("vpn.enabled needs the secret spyglass:vpnPsk (pulumi config set --secret vpnPsk ...)")
    gateway_ip = raw.get("onPremGatewayIp", "")
    spaces = tuple(raw.get("onPremAddressSpaces", ()))
    if not gateway_ip or not spaces:
        raise ConfigError("vpn.enabled needs vpn.onPremGatewayIp and vpn.onPremAddressSpaces")
    base = Vpn()
    return Vpn(
        enabled=True,
        on_prem_gateway_ip=gateway_ip,
        on_prem_address_spaces=spaces,
        vnet_address_space=raw.get("vnetAddressSpace", base.vnet_address_space),
        gateway_subnet=raw.get("gatewaySubnet", base.gateway_subnet),
        workload_subnet=raw.get("workloadSubnet", base.workload_subnet),
        gateway_sku=raw.get("gatewaySku", base.gateway_sku),
        psk=psk,
    )
