from functions import telemetry


def test_without_a_connection_string_telemetry_is_off_and_recording_is_harmless(monkeypatch):
    monkeypatch.delenv("APPLICATIONINSIGHTS_CONNECTION_STRING", raising=False)
    assert telemetry.configure() is False
    telemetry.record(1.5, 0.2, ["mispricing", "parity"])  # the OpenTelemetry API is a no-op without an SDK


def test_custom_metrics_reach_a_meter_provider():
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))  # what configure_azure_monitor does
    telemetry.record(2.5, 0.4, ["mispricing", "mispricing", "parity"])
    points = {m.name: m.data.data_points for rm in reader.get_metrics_data().resource_metrics
              for sm in rm.scope_metrics for m in sm.metrics}
    assert points["spyglass.scoring_ms"][0].sum == 2.5
    assert points["spyglass.queue_lag_s"][0].sum == 0.4
    by_type = {p.attributes["type"]: p.value for p in points["spyglass.anomalies"]}
    assert by_type == {"mispricing": 2, "parity": 1}
