"""Alert rules, the action group and the budget."""

from __future__ import annotations

from spyglass_infra.config import MarketHours
from spyglass_infra.monitoring import market_open_kql

from tests.infra.harness import secret_value


def rule(d, name_part):
    return next(r for r in d.of("monitor:ScheduledQueryRule") if name_part in r.inputs["ruleName"])


def test_action_group_reaches_the_configured_people(dev, dev_vpn):
    ag = dev.one("monitor:ActionGroup").inputs
    assert [e["emailAddress"] for e in ag["emailReceivers"]] == ["spyglass-alerts@example.com"]
    assert ag["enabled"] is True and len(ag["groupShortName"]) <= 12
    (hook,) = secret_value(dev_vpn.one("monitor:ActionGroup").inputs["webhookReceivers"])
    assert hook == {"name": "webhook", "serviceUri": "https://hooks.example.com/spyglass", "useCommonAlertSchema": True}


def test_function_failures_alert(dev):
    alert = dev.one("monitor:MetricAlert").inputs
    appi = dev.one("applicationinsights:Component").id
    assert alert["scopes"] == [appi]
    (criterion,) = alert["criteria"]["allOf"]
    assert (criterion["metricName"], criterion["operator"], criterion["threshold"]) == ("requests/failed", "GreaterThan", 0)
    assert alert["windowSize"] == "PT5M"
    assert alert["actions"] == [{"actionGroupId": dev.one("monitor:ActionGroup").id}]


def test_poison_queue_alert_watches_the_poison_queue(dev):
    r = rule(dev, "poison").inputs
    (criterion,) = r["criteria"]["allOf"]
    assert "Moving message to queue 'chain-snapshots-poison'" in criterion["query"]
    assert "sum(itemCount)" in criterion["query"]  # counts sampled traces at their weight
    assert r["actions"]["actionGroups"] == [dev.one("monitor:ActionGroup").id]
    assert r["scopes"] == [dev.one("applicationinsights:Component").id]


def test_no_snapshots_alert_is_five_minutes_inside_market_hours(dev):
    r = rule(dev, "no-snapshots").inputs
    assert (r["evaluationFrequency"], r["windowSize"]) == ("PT5M", "PT5M")
    (criterion,) = r["criteria"]["allOf"]
    q = criterion["query"]
    assert "name == 'spyglass.queue_lag_s'" in q and "ago(5m)" in q
    assert "datetime_utc_to_local(now(), 'America/New_York')" in q
    assert "'2026-11-26'" in q and "'2026-11-27'" in q  # a holiday and an early close from Pulumi.dev.yaml
    assert "where is_open and snapshots == 0" in q
    assert (criterion["operator"], criterion["threshold"], criterion["timeAggregation"]) == ("GreaterThan", 0, "Count")


def test_market_open_kql_follows_config():
    q = market_open_kql(MarketHours(timezone="Europe/London", open="08:05", close="16:30",
                                    holidays=("2027-01-01",), early_closes=("2027-12-24",), early_close="12:30"))
    assert "'Europe/London'" in q and "totimespan('08:05:00')" in q
    assert "totimespan('16:30:00')" in q and "totimespan('12:30:00')" in q
    assert "dynamic(['2027-01-01'])" in q and "dynamic(['2027-12-24'])" in q


def test_budget_alerts_at_80_90_100_percent(dev, prod):
    for d, amount in ((dev, 40.0), (prod, 120.0)):
        b = d.one("consumption:Budget").inputs
        assert b["amount"] == amount and b["timeGrain"] == "Monthly" and b["category"] == "Cost"
        assert b["scope"] == d.one("resources:ResourceGroup").id
        actual = sorted(n["threshold"] for n in b["notifications"].values() if n["thresholdType"] == "Actual")
        assert actual == [80, 90, 100]
        for n in b["notifications"].values():
            assert n["enabled"] and n["contactGroups"] == [d.one("monitor:ActionGroup").id]
