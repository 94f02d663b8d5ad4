"""Alerts that page someone, and the budget that warns before the bill does.

- function failures: the Application Insights metric `requests/failed` (every invocation, queue
  triggers included, is a request; host.json never samples requests), > 0 in 5 minutes;
- poison queue: Azure Monitor has no per-queue length metric (the storage `QueueMessageCount` is
  account-wide and hourly), so the rule counts the host's "Moving message to queue
  'chain-snapshots-poison'" log lines: poison length grew in the last 15 minutes;
- no snapshots for 5 minutes while the market is open: a log query over the custom metric
  `spyglass.queue_lag_s`, recorded once per ingested snapshot; "market open" is computed in the
  query from the exchange-local clock (weekday, open..close, minus configured holidays), so the
  rule stays quiet nights, weekends and holidays without schedules or suppression rules;
- budget: actual spend at 80, 90 and 100% of `budgetAmount`, plus a forecast at 100%.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import consumption, monitor

from spyglass_infra import names as n
from spyglass_infra.config import MarketHours, StackConfig
from spyglass_infra.naming import Names

BUDGET_THRESHOLDS = (80, 90, 100)


def market_open_kql(market: MarketHours) -> str:
    """KQL `let`s ending in `market_open`: true while the exchange is open by its own local clock.

    Weekdays between `open` and `close` (or `early_close` on listed early-close days), minus listed
    holidays. Dates come from config; `infra/README.md` shows how to list them with exchange_calendars.
    """
    def dates(values: tuple[str, ...]) -> str:
        return ", ".join(f"'{d}'" for d in values)

    return (
        f"let local_now = datetime_utc_to_local(now(), '{market.timezone}');\n"
        "let today = format_datetime(local_now, 'yyyy-MM-dd');\n"
        f"let holidays = dynamic([{dates(market.holidays)}]);\n"
        f"let early_closes = dynamic([{dates(market.early_closes)}]);\n"
        f"let close_at = iff(today in (early_closes), totimespan('{market.early_close}:00'), totimespan('{market.close}:00'));\n"
        "let market_open = dayofweek(local_now) between (1d .. 5d)\n"
        f"    and (local_now - startofday(local_now)) between (totimespan('{market.open}:00') .. close_at)\n"
        "    and not(today in (holidays));\n"
    )


def no_snapshots_query(market: MarketHours) -> str:
    """One row when the market is open and no snapshot was ingested in the last 5 minutes; else none."""
    return market_open_kql(market) + (
        "let snapshots = toscalar(customMetrics\n"
        "    | where timestamp > ago(5m) and name == '" + n.QUEUE_LAG_METRIC + "'\n"
        "    | summarize sum(valueCount));\n"
        "print is_open = market_open, snapshots = coalesce(snapshots, 0)\n"
        "| where is_open and snapshots == 0"
    )


def poison_query() -> str:
    return (
        "traces\n"
        "| where timestamp > ago(15m)\n"
        f"| where message has \"Moving message to queue '{n.POISON_QUEUE}'\"\n"
        "| summarize moved = sum(itemCount)\n"
        "| where moved > 0"
    )


class Monitoring(pulumi.ComponentResource):
    def __init__(self, cfg: StackConfig, names: Names, group, insights, tags: dict[str, str]) -> None:
        super().__init__("spyglass:infra:Monitoring", "monitoring")
        child = pulumi.ResourceOptions(parent=self)
        webhooks = []
        if cfg.alert_webhook_url is not None:
            webhooks.append({"name": "webhook", "service_uri": cfg.alert_webhook_url, "use_common_alert_schema": True})
        self.action_group = monitor.ActionGroup(
            "ag",
            action_group_name=names.dashed("ag"),
            resource_group_name=group.name,
            location="global",
            group_short_name=f"spy{cfg.env}"[:12],
            enabled=True,
            email_receivers=[{"name": f"email-{i}", "email_address": e, "use_common_alert_schema": True}
                             for i, e in enumerate(cfg.alert_emails)],
            webhook_receivers=webhooks,
            tags=tags,
            opts=child,
        )
        actions = [{"action_group_id": self.action_group.id}]
        self.failures = monitor.MetricAlert(
            "alert-function-failures",
            rule_name=names.dashed("alert-func-failures"),
            resource_group_name=group.name,
            location="global",
            description="Function invocations failed (queue trigger or HTTP) in the last 5 minutes",
            severity=1,
            enabled=True,
            scopes=[insights.id],
            evaluation_frequency="PT1M",
            window_size="PT5M",
            # a union type in the schema: only the typed Args class tells Pulumi which member (and its
            # camelCase wire names) this is; a plain dict would reach ARM with snake_case keys
            criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                all_of=[monitor.MetricCriteriaArgs(
                    criterion_type="StaticThresholdCriterion",
                    name="failed-requests",
                    metric_namespace="microsoft.insights/components",
                    metric_name="requests/failed",
                    operator="GreaterThan",
                    threshold=0,
                    time_aggregation="Count",
                )],
            ),
            actions=actions,
            auto_mitigate=True,
            tags=tags,
            opts=child,
        )
        self.poison = self._log_alert(
            "alert-poison", names.dashed("alert-poison"), group, insights, poison_query(),
            "Snapshots moved to the poison queue (replay with `spyglass poison replay`)", "PT5M", "PT15M", 2, tags)
        self.no_snapshots = self._log_alert(
            "alert-no-snapshots", names.dashed("alert-no-snapshots"), group, insights,
            no_snapshots_query(cfg.market),
            "No snapshot ingested for 5 minutes while the market is open (edge, queue or Functions down)",
            "PT5M", "PT5M", 1, tags)
        self.budget = consumption.Budget(
            "budget",
            budget_name=names.dashed("budget"),
            scope=group.id,
            amount=cfg.budget_amount,
            category="Cost",
            time_grain="Monthly",
            time_period={"start_date": f"{cfg.budget_start}T00:00:00Z"},
            notifications={
                **{f"actual-{pct}": {
                    "enabled": True, "operator": "GreaterThanOrEqualTo", "threshold": pct, "threshold_type": "Actual",
                    "contact_emails": list(cfg.alert_emails), "contact_groups": [self.action_group.id],
                } for pct in BUDGET_THRESHOLDS},
                "forecast-100": {
                    "enabled": True, "operator": "GreaterThan", "threshold": 100, "threshold_type": "Forecasted",
                    "contact_emails": list(cfg.alert_emails), "contact_groups": [self.action_group.id],
                },
            },
            opts=child,
        )
        self.register_outputs({"actionGroup": self.action_group.id})

    def _log_alert(self, resource: str, rule: str, group, insights, query: str, description: str,
                   every: str, window: str, severity: int, tags: dict[str, str]) -> monitor.ScheduledQueryRule:
        return monitor.ScheduledQueryRule(
            resource,
            rule_name=rule,
            resource_group_name=group.name,
            location=group.location,
            description=description,
            severity=severity,
            enabled=True,
            kind="LogAlert",
            scopes=[insights.id],
            evaluation_frequency=every,
            window_size=window,
            criteria={"all_of": [{
                "query": query,
                "time_aggregation": "Count",
                "operator": "GreaterThan",
                "threshold": 0,
                "failing_periods": {"number_of_evaluation_periods": 1, "min_failing_periods_to_alert": 1},
            }]},
            actions={"action_groups": [self.action_group.id]},
            auto_mitigate=True,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
