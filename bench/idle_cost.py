"""idle_cost_usd_per_month: what a deployment costs each month with no traffic at all.

Counted from the synthesized template (no bundling), priced with bench/prices.py (us-east-1):
CloudWatch alarms (per alarm metric: a metric-math alarm pays for each metric it reads; high resolution when
its period is under 60 s), dashboards, Secrets Manager secrets, customer-managed KMS keys. Everything else the
stack creates bills by use (Lambda, API Gateway, SQS, DynamoDB on-demand requests, logs, X-Ray, custom
metrics published only when events flow) or is free (IAM, SNS topic, usage plans, event source mappings).
Data kept costs per GB and is reported separately: DynamoDB storage and point-in-time recovery on each table.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from bench import prices

NAME = "idle_cost"


def _of_type(template: dict, cfn_type: str) -> list[dict]:
    return [r.get("Properties", {}) for r in template["Resources"].values() if r["Type"] == cfn_type]


def alarm_metrics(alarm: dict) -> int:
    """Billable metrics of one alarm: each MetricStat of a metric-math alarm, else its one metric."""
    queries = alarm.get("Metrics")
    return sum(1 for q in queries if "MetricStat" in q) if queries else 1


def idle_monthly_cost(template: dict) -> dict[str, Any]:
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    standard = sum(alarm_metrics(a) for a in alarms if int(a.get("Period", 60)) >= 60)
    high_res = sum(alarm_metrics(a) for a in alarms if int(a.get("Period", 60)) < 60)
    counts = {
        "alarms": len(alarms),
        "alarm_metrics": standard + high_res,
        "dashboards": len(_of_type(template, "AWS::CloudWatch::Dashboard")),
        "secrets": len(_of_type(template, "AWS::SecretsManager::Secret")),
        "kms_keys": len(_of_type(template, "AWS::KMS::Key")),
    }
    usd = {
        "alarms": standard * prices.CLOUDWATCH_ALARM_METRIC_PER_MONTH
        + high_res * prices.CLOUDWATCH_HIGH_RESOLUTION_ALARM_METRIC_PER_MONTH,
        "dashboards": counts["dashboards"] * prices.CLOUDWATCH_DASHBOARD_PER_MONTH,
        "secrets": counts["secrets"] * prices.SECRETS_MANAGER_SECRET_PER_MONTH,
        "kms_keys": counts["kms_keys"] * prices.KMS_CUSTOMER_KEY_PER_MONTH,
    }
    tables = _of_type(template, "AWS::DynamoDB::Table")
    pitr = sum(1 for t in tables if (t.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"))
    return {
        "counts": {**counts, "tables": len(tables), "tables_with_pitr": pitr},
        "usd_per_month": {k: round(v, 2) for k, v in usd.items()},
        "total_usd_per_month": round(sum(usd.values()), 2),
        "per_stored_gb_usd_per_month": round(
            prices.DYNAMODB_STORAGE_PER_GB_MONTH + (prices.DYNAMODB_PITR_PER_GB_MONTH if pitr else 0), 2
        ),
    }


def synthesized_template(context: dict[str, Any] | None = None) -> dict:
    """The default stack's template, synthesized without building any asset."""
    from infra.main import build_app

    with tempfile.TemporaryDirectory(prefix="hub-idle-cost-") as tmp:
        app, stack = build_app({"aws:cdk:bundling-stacks": [], **(context or {})}, outdir=tmp, nag=False)
        app.synth()
        return json.loads((Path(tmp) / f"{stack.stack_name}.template.json").read_text())


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print("idle_cost_usd_per_month (synthesized template, us-east-1 list prices, free tiers ignored)")
    cost = idle_monthly_cost(synthesized_template())
    for item, usd in cost["usd_per_month"].items():
        print(f"  {item:<12} {cost['counts'][item]:>4}  ${usd:>7.2f}")
    print(
        f"  total        ${cost['total_usd_per_month']:.2f} per month, plus ${cost['per_stored_gb_usd_per_month']:.2f}"
        f" per GB stored ({cost['counts']['tables_with_pitr']} of {cost['counts']['tables']} tables with PITR)"
    )
    return {"idle_cost_usd_per_month": cost}, []
