"""The ConfigMap feeds the programs' real settings: every bot key is one the bot reads, and they parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.bot.settings import BotSettings
from tests.k8s.manifests import KUBECTL, OVERLAYS, base_resources, find, render

SETTINGS_SOURCE = (Path(__file__).resolve().parents[2] / "edge" / "bot" / "settings.py").read_text()
SETS = [("base", base_resources)] + ([(p.name, lambda p=p: render(p)) for p in OVERLAYS] if KUBECTL else [])


@pytest.mark.parametrize("name,load", SETS, ids=[n for n, _ in SETS])
def test_bot_settings_parse_from_the_configmap(name, load):
    data = find(load(), "ConfigMap", "spyglass-edge")["data"]
    for key in data:
        if key.startswith("SPYGLASS_BOT_"):
            assert f'"{key.removeprefix("SPYGLASS_BOT_")}"' in SETTINGS_SOURCE, f"{key} is read by nobody"
    s = BotSettings.from_env({**data, "SPYGLASS_FUNCTION_KEY": "from-the-secret"})
    assert s.mode in ("off", "shadow")
    assert str(s.kill_switch_file).startswith(str(s.state_dir))  # the kill file lives on the bot's volume
    assert s.ib_host == "ib-gateway" and s.ib_client_id != 17  # never the collector's client id
    assert s.ops_port == 9102 and s.limits.max_open_positions >= 1
