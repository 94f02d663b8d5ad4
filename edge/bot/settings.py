"""Bot settings from the environment. Paused (``off``) unless told otherwise; live needs two settings.

Live trading is never one typo away: ``SPYGLASS_BOT_MODE=live`` alone refuses to
start, and so does the confirmation phrase alone with any other mode's intent
unclear. Only both together select live.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from edge.bot.gate import GateSettings

MODES = ("off", "shadow", "paper", "live")
LIVE_CONFIRM_PHRASE = "I-understand-this-trades-real-money"


class SettingsError(ValueError):
    """A setting is missing or contradictory: the bot refuses to start rather than guess."""


def resolve_mode(mode: str | None, live_confirm: str | None) -> str:
    """The effective mode. ``live`` needs ``SPYGLASS_BOT_LIVE_CONFIRM`` set to the exact phrase."""
    m = (mode or "off").strip().lower()
    if m not in MODES:
        raise SettingsError(f"SPYGLASS_BOT_MODE must be one of {', '.join(MODES)}, got {mode!r}")
    if m == "live" and live_confirm != LIVE_CONFIRM_PHRASE:
        raise SettingsError("SPYGLASS_BOT_MODE=live also needs SPYGLASS_BOT_LIVE_CONFIRM="
                            f"{LIVE_CONFIRM_PHRASE}; refusing to start")
    return m


@dataclass(frozen=True)
class RiskLimits:
    max_open_positions: int = 1
    max_contracts_per_order: int = 1
    max_daily_loss: float = 250.0  # dollars: worst-case loss of today's positions may not exceed it
    no_new_minutes_before_close: float = 30.0
    signal_ttl_seconds: float = 30.0
    min_edge: float = 3.0  # dollars per contract after fees, re-checked with the legs' live quotes


@dataclass(frozen=True)
class BotSettings:
    mode: str = "off"
    limits: RiskLimits = RiskLimits()
    gate: GateSettings = GateSettings()
    quantity: int = 1  # contracts (combo units) per order
    wing_width: float = 1.0  # strike distance of the protective leg of a vertical, in points
    kill_switch_file: Path = Path("/var/run/spyglass/bot.kill")
    kill_switch: bool = False
    state_dir: Path = Path("/data/bot")
    api: str = ""
    function_key: str = ""
    signals_sas_url: str = ""  # read-only SAS on the signals table: the feed in Azure, behind the Static Web App
    poll_seconds: float = 1.0
    underlying: str = "SPY"
    ib_host: str = "127.0.0.1"
    ib_port: int = 4002
    ib_client_id: int = 7
    ib_account: str = ""
    ops_port: int = 9102

    @property
    def audit_path(self) -> Path:
        return self.state_dir / "audit.jsonl"

    @property
    def ledger_path(self) -> Path:
        return self.state_dir / "ledger.sqlite"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BotSettings:
        e = os.environ if env is None else env
        p = "SPYGLASS_BOT_"
        try:
            limits = RiskLimits(
                max_open_positions=int(e.get(p + "MAX_OPEN_POSITIONS", 1)),
                max_contracts_per_order=int(e.get(p + "MAX_CONTRACTS_PER_ORDER", 1)),
                max_daily_loss=float(e.get(p + "MAX_DAILY_LOSS", 250.0)),
                no_new_minutes_before_close=float(e.get(p + "NO_NEW_MINUTES_BEFORE_CLOSE", 30.0)),
                signal_ttl_seconds=float(e.get(p + "SIGNAL_TTL_SECONDS", 30.0)),
                min_edge=float(e.get(p + "MIN_EDGE", 3.0)),
            )
            gate = GateSettings(
                horizon=e.get(p + "GATE_HORIZON", "5m"),
                min_alerts=int(e.get(p + "GATE_MIN_ALERTS", 30)),
                confidence=float(e.get(p + "GATE_CONFIDENCE", 0.9)),
                window=int(e.get(p + "GATE_WINDOW", 200)),
            )
            s = cls(
                mode=resolve_mode(e.get(p + "MODE"), e.get(p + "LIVE_CONFIRM")),
                limits=limits,
                gate=gate,
                quantity=int(e.get(p + "QUANTITY", 1)),
                wing_width=float(e.get(p + "WING_WIDTH", 1.0)),
                kill_switch_file=Path(e.get(p + "KILL_SWITCH_FILE", "/var/run/spyglass/bot.kill")),
                kill_switch=e.get(p + "KILL_SWITCH", "").strip().lower() in ("1", "true", "yes", "on"),
                state_dir=Path(e.get(p + "STATE_DIR", "/data/bot")),
                api=e.get("SPYGLASS_API", "").rstrip("/"),
                function_key=e.get("SPYGLASS_FUNCTION_KEY", ""),
                signals_sas_url=e.get(p + "SIGNALS_SAS_URL", ""),
                poll_seconds=float(e.get(p + "POLL_SECONDS", 1.0)),
                underlying=e.get("SPYGLASS_UNDERLYING", "SPY").upper(),
                ib_host=e.get("IB_HOST", "127.0.0.1"),
                ib_port=int(e.get("IB_PORT", 4002)),
                ib_client_id=int(e.get(p + "IB_CLIENT_ID", 7)),
                ib_account=e.get("IB_ACCOUNT", ""),
                ops_port=int(e.get(p + "OPS_PORT", 9102)),
            )
        except ValueError as exc:
            if isinstance(exc, SettingsError):
                raise
            raise SettingsError(f"bad bot setting: {exc}") from None
        if s.quantity < 1 or s.limits.max_contracts_per_order < 1:
            raise SettingsError("quantity and max contracts per order must be at least 1")
        if s.mode != "off" and not (s.api or s.signals_sas_url):
            raise SettingsError("SPYGLASS_API (SignalR and the API) or SPYGLASS_BOT_SIGNALS_SAS_URL (the signals "
                                "table) is needed to receive signals")
        if s.gate.horizon not in ("5s", "30s", "2m", "5m", "settle"):
            raise SettingsError("SPYGLASS_BOT_GATE_HORIZON must be one of 5s, 30s, 2m, 5m, settle")
        if not 0.5 <= s.gate.confidence < 1 or s.gate.min_alerts < 2 or s.gate.window < s.gate.min_alerts:
            raise SettingsError("the market gate needs 0.5 <= confidence < 1, min_alerts >= 2 and a window of at "
                                "least min_alerts")
        if s.poll_seconds <= 0:
            raise SettingsError("SPYGLASS_BOT_POLL_SECONDS must be positive")
        return s
