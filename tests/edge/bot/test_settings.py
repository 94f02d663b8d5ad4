import pytest

from edge.bot.settings import LIVE_CONFIRM_PHRASE, BotSettings, SettingsError, resolve_mode

BASE = {"SPYGLASS_API": "http://127.0.0.1:1/api", "SPYGLASS_FUNCTION_KEY": "k"}


def test_paused_by_default():
    assert BotSettings.from_env({}).mode == "off"
    assert BotSettings().mode == "off"


def test_live_mode_alone_refuses_to_start():
    with pytest.raises(SettingsError, match="LIVE_CONFIRM"):
        BotSettings.from_env({**BASE, "SPYGLASS_BOT_MODE": "live"})


def test_live_confirm_alone_does_not_enable_live():
    assert BotSettings.from_env({**BASE, "SPYGLASS_BOT_LIVE_CONFIRM": LIVE_CONFIRM_PHRASE}).mode == "off"
    assert BotSettings.from_env({**BASE, "SPYGLASS_BOT_MODE": "paper",
                                 "SPYGLASS_BOT_LIVE_CONFIRM": LIVE_CONFIRM_PHRASE}).mode == "paper"


def test_live_needs_the_exact_phrase():
    with pytest.raises(SettingsError):
        resolve_mode("live", "yes")
    with pytest.raises(SettingsError):
        resolve_mode("live", LIVE_CONFIRM_PHRASE.lower())
    assert resolve_mode("LIVE", LIVE_CONFIRM_PHRASE) == "live"


def test_unknown_mode_and_bad_numbers_are_clear_errors():
    with pytest.raises(SettingsError, match="one of"):
        BotSettings.from_env({"SPYGLASS_BOT_MODE": "yolo"})
    with pytest.raises(SettingsError, match="bad bot setting"):
        BotSettings.from_env({"SPYGLASS_BOT_MAX_DAILY_LOSS": "lots"})


def test_active_modes_need_the_api():
    with pytest.raises(SettingsError, match="SPYGLASS_API"):
        BotSettings.from_env({"SPYGLASS_BOT_MODE": "shadow"})
    table = BotSettings.from_env({"SPYGLASS_BOT_MODE": "shadow", "SPYGLASS_BOT_SIGNALS_SAS_URL": "https://a/signals?s"})
    assert table.api == "" and table.signals_sas_url.endswith("?s") and table.poll_seconds == 1.0


def test_limits_and_kill_switch_from_env(tmp_path):
    s = BotSettings.from_env({**BASE, "SPYGLASS_BOT_MODE": "shadow", "SPYGLASS_BOT_MAX_OPEN_POSITIONS": "3",
                              "SPYGLASS_BOT_KILL_SWITCH": "true", "SPYGLASS_BOT_STATE_DIR": str(tmp_path)})
    assert s.limits.max_open_positions == 3 and s.kill_switch and s.audit_path.parent == tmp_path


def test_the_function_key_is_optional_behind_the_static_web_app():
    from edge.bot.catchup import key_header

    s = BotSettings.from_env({"SPYGLASS_BOT_MODE": "shadow", "SPYGLASS_API": "https://dash.example/api"})
    assert s.function_key == "" and key_header(s.function_key) == {}
    assert key_header("k") == {"x-functions-key": "k"}
    with pytest.raises(SettingsError, match="SPYGLASS_API"):
        BotSettings.from_env({"SPYGLASS_BOT_MODE": "shadow"})
    table = BotSettings.from_env({"SPYGLASS_BOT_MODE": "shadow", "SPYGLASS_BOT_SIGNALS_SAS_URL": "https://a/signals?s"})
    assert table.api == "" and table.signals_sas_url.endswith("?s") and table.poll_seconds == 1.0
