"""Alarms, their SNS action, and the dashboard."""

from __future__ import annotations

import json

from hub.platform import catalog
from infra.constructs.functions import gateway_functions

from .helpers import of_type, refs_in


def _alarms(synth) -> list[dict]:
    return [a["Properties"] for a in of_type(synth.resources, "AWS::CloudWatch::Alarm").values()]


def _simple(synth, metric: str, namespace: str) -> list[dict]:
    return [a for a in _alarms(synth) if a.get("MetricName") == metric and a.get("Namespace") == namespace]


def test_dlq_alarm(hub):
    for q in hub.stack.queues.by_id.values():
        dlq_id = hub.logical_id(q.dlq)
        alarms = [
            a
            for a in _simple(hub, "ApproximateNumberOfMessagesVisible", "AWS/SQS")
            if refs_in(a["Dimensions"]) == {dlq_id}
        ]
        assert len(alarms) == 1
        assert alarms[0]["Threshold"] == 0
        assert alarms[0]["ComparisonOperator"] == "GreaterThanThreshold"


def test_delivery_failure_rate_alarm(hub):
    cfg = hub.stack.config
    math = [a for a in _alarms(hub) if "Metrics" in a]
    (alarm,) = [a for a in math if any("Expression" in m for m in a["Metrics"])]
    stats = {
        m["MetricStat"]["Metric"]["MetricName"]: m["MetricStat"]["Metric"]
        for m in alarm["Metrics"]
        if "MetricStat" in m
    }
    assert set(stats) == {"DeliverySucceeded", "DeliveryFailed"}
    for metric in stats.values():
        assert metric["Namespace"] == cfg.metrics_namespace
        assert metric["Dimensions"] == [{"Name": "service", "Value": cfg.service_name}]
    assert alarm["Threshold"] == cfg.delivery_failure_rate_percent


def test_function_error_and_throttle_alarms(hub):
    for name, f in hub.stack.functions.by_name.items():
        fn_id = hub.logical_id(f.function)
        for metric in ("Errors", "Throttles"):
            assert [a for a in _simple(hub, metric, "AWS/Lambda") if refs_in(a["Dimensions"]) == {fn_id}], (
                name,
                metric,
            )


def test_stream_functions_alarm_on_iterator_age(hub):
    ages = _simple(hub, "IteratorAge", "AWS/Lambda")
    streamed = [name for name, f in hub.stack.functions.by_name.items() if f.spec.stream_triggers]
    assert len(ages) == len(streamed) == 3  # dispatcher, aggregator, push
    for name in streamed:
        fn_id = hub.logical_id(hub.stack.functions.by_name[name].function)
        (alarm,) = [a for a in ages if refs_in(a["Dimensions"]) == {fn_id}]
        assert alarm["Statistic"] == "Maximum"
        assert alarm["Threshold"] == hub.stack.config.queue_age_alarm_seconds * 1000


def test_each_failure_queue_alarms_saying_what_failed_and_how_to_replay(hub):
    alarms = of_type(hub.resources, "AWS::CloudWatch::Alarm").values()
    for spec in catalog.FAILURE_QUEUES:
        queue_id = hub.logical_id(hub.stack.queues.failures_by_id[spec.id])
        (alarm,) = [
            a["Properties"]
            for a in alarms
            if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and refs_in(a["Properties"]["Dimensions"]) == {queue_id}
        ]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        description = alarm["AlarmDescription"]
        assert spec.function in description and spec.what_failed in description
        assert ('"replay"' in description) is spec.replayable and "docs/stream-failures.md" in description
        assert "deliveries gave up" not in description


def test_api_5xx_and_receiver_latency_alarms(hub):
    assert len(_simple(hub, "5XXError", "AWS/ApiGateway")) == 1
    gateway = gateway_functions()
    assert gateway, "the catalog has gateway routes"
    for name in gateway:
        fn_id = hub.logical_id(hub.stack.functions.by_name[name].function)
        (alarm,) = [a for a in _simple(hub, "Duration", "AWS/Lambda") if refs_in(a["Dimensions"]) == {fn_id}]
        assert alarm["ExtendedStatistic"] == "p99"


def test_alarm_actions_only_with_a_topic(hub, hub_dev):
    assert all("AlarmActions" not in a for a in _alarms(hub))
    hub.template.resource_count_is("AWS::SNS::Topic", 0)
    (topic_id,) = of_type(hub_dev.resources, "AWS::SNS::Topic")
    for alarm in _alarms(hub_dev):
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    hub_dev.template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "email",
            "Endpoint": "ops@example.com",
            "TopicArn": {"Ref": topic_id},
        },
    )


def test_dashboard(hub):
    (dashboard,) = of_type(hub.resources, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for needle in (
        "EventsReceived",
        "DeliverySucceeded",
        "DeliveryFailed",
        "DeliveryRetried",
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
        "Duration",
        "Latency",
    ):
        assert needle in body, needle
    assert len(catalog.QUEUES) >= 1
