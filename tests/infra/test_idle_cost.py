"""The idle deployment's fixed monthly cost (bench/idle_cost.py), counted from the synthesized template."""

from __future__ import annotations

import pytest

from bench import idle_cost, prices

from .helpers import of_type


def test_idle_cost_prices_each_alarm_metric_dashboard_and_secret():
    template = {
        "Resources": {
            "Plain": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "Errors", "Period": 300}},
            "Math": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "Metrics": [
                        {"Id": "rate", "Expression": "f / s"},
                        {"Id": "s", "MetricStat": {}},
                        {"Id": "f", "MetricStat": {}},
                    ]
                },
            },
            "Fast": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "Errors", "Period": 10}},
            "Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},
            "Key": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}},
            },
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
        }
    }
    cost = idle_cost.idle_monthly_cost(template)
    assert cost["counts"]["alarm_metrics"] == 4
    assert cost["total_usd_per_month"] == pytest.approx(3 * 0.10 + 0.30 + 3.00 + 0.40)
    assert cost["per_stored_gb_usd_per_month"] == pytest.approx(0.25 + 0.20)


def test_idle_cost_of_the_stack_counts_what_it_synthesizes(hub):
    cost = idle_cost.idle_monthly_cost(hub.json)
    alarms = of_type(hub.resources, "AWS::CloudWatch::Alarm")
    assert cost["counts"]["alarms"] == len(alarms) > 0
    assert cost["counts"]["alarm_metrics"] >= len(alarms)
    secrets = of_type(hub.resources, "AWS::SecretsManager::Secret")  # the operator key, the connect-link key
    assert cost["counts"]["dashboards"] == 1 and cost["counts"]["secrets"] == len(secrets) == 2
    assert cost["counts"]["tables_with_pitr"] == cost["counts"]["tables"]
    assert cost["usd_per_month"]["dashboards"] == prices.CLOUDWATCH_DASHBOARD_PER_MONTH
