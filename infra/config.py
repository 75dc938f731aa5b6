"""Every knob of the stack, read from CDK context, with its default: the ONE place.

Set any of them with `cdk synth -c key=value` (or `python app.py` with the same
context in cdk.json). Structured values (`plans`, `settings`) accept JSON strings on
the command line, e.g. `-c plans='{"default": {"rateLimit": 5, ...}}'`.

Runtime settings (layers/hub/python/hub/settings.py) are NOT listed here: every
declared setting with a non-empty default is passed to the functions, and any of
them can be overridden with `-c settings='{"WEBHOOK_RETRY_ATTEMPTS": "5"}'` or
directly with `-c WEBHOOK_RETRY_ATTEMPTS=5`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from hub.platform import catalog
from hub.platform import settings as hub_settings

REPO_ROOT = Path(__file__).resolve().parent.parent

# --- defaults -------------------------------------------------------------------

DEFAULT_STAGE = "prod"
DEV_STAGES = frozenset({"dev", "development", "test", "sandbox", "local", "ci"})
"""Stages whose data may be thrown away with the stack (removal policy DESTROY)."""

DEFAULT_PLANS: dict[str, dict[str, int]] = {
    # name -> per-key throttle (requests/s, burst) and monthly request quota.
    "default": {"rateLimit": 10, "burstLimit": 20, "quotaPerMonth": 100_000},
    "pro": {"rateLimit": 100, "burstLimit": 200, "quotaPerMonth": 5_000_000},
}
"""Usage plans (tenant billing tiers). `default` must exist: tenants without a plan land in it."""

DEFAULTS: dict[str, Any] = {
    "stage": DEFAULT_STAGE,
    "removalPolicy": "",  # "", "retain" or "destroy"; "" = by stage
    "logRetentionDays": 30,
    "apiThrottleRateLimit": 200,
    "apiThrottleBurstLimit": 400,
    # false on accounts whose Lambda concurrency quota is under 100 + the catalog's reserved concurrency
    "reserveConcurrency": True,
    "plans": DEFAULT_PLANS,
    "settings": {},
    "alarmEmail": "",
    "alarmTopicArn": "",
    # alarm thresholds
    "deliveryFailureRatePercent": 20,
    "api5xxThreshold": 5,
    "receiverP99LatencyMs": 1000,
    "queueAgeAlarmSeconds": 3600,  # above the longest retry schedule you configure
    # where the function folders live (tests point this at a tmp dir)
    "functionsRoot": "functions",
    "layersRoot": "layers",
    "lockFile": "requirements.lock",  # what the dependency layer installs (infra/lock.py)
    "keepReplacedIndexes": [],  # docs/migration.md: "<Table>.<index>" replaced indexes still kept
    "deferIndexes": [],  # docs/migration.md: "<Table>.<index>" declared indexes not created yet
}

LOCAL_ONLY_SETTINGS = {"HUB_LOCAL": "false"}
"""Settings only the local hub may change: a deployed stack is never local (HUB_LOCAL=true would allow
http:// subscribers on loopback, the Lambda Runtime API included, and caller-chosen tenant keys)."""


@dataclass(frozen=True)
class Plan:
    name: str
    rate_limit: float
    burst_limit: int
    quota_per_month: int


@dataclass(frozen=True)
class HubConfig:
    stage: str
    removal_policy: RemovalPolicy
    log_retention: logs.RetentionDays
    log_retention_days: int
    api_throttle_rate_limit: float
    api_throttle_burst_limit: int
    reserve_concurrency: bool
    """Whether functions get their catalog reserved concurrency (catalog.Function.reserved_concurrency)."""
    plans: tuple[Plan, ...]
    settings: Mapping[str, str]
    """Runtime settings passed to every function (declared settings, non-empty, context-overridden)."""
    alarm_email: str
    alarm_topic_arn: str
    delivery_failure_rate_percent: float
    api_5xx_threshold: int
    receiver_p99_latency_ms: int
    queue_age_alarm_seconds: int
    functions_root: Path
    layers_root: Path
    lock_file: Path
    keep_replaced_indexes: frozenset[str] = frozenset()
    """`<Table>.<index>` names of replaced (catalog.Index.replaces) or retired (catalog.Table.retired) indexes the
    tables keep (docs/migration.md)."""
    defer_indexes: frozenset[str] = frozenset()
    """`<Table>.<index>` names of declared indexes the tables do not have yet (docs/migration.md)."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def stack_name(self) -> str:
        return f"WaWebhookHub-{self.stage}"

    @property
    def service_name(self) -> str:
        return self.settings["POWERTOOLS_SERVICE_NAME"]

    @property
    def metrics_namespace(self) -> str:
        return self.settings["POWERTOOLS_METRICS_NAMESPACE"]

    @property
    def log_level(self) -> str:
        return self.settings.get("LOG_LEVEL", "INFO").upper()

    def plan_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.plans)


class ConfigError(ValueError):
    pass


def _json_or(value: Any) -> Any:
    """Context from the CLI arrives as strings; structured values may be JSON."""
    if isinstance(value, str) and value.strip()[:1] in "{[":
        return json.loads(value)
    return value


def _bool(ctx: Mapping[str, Any], key: str) -> bool:
    value = ctx[key]
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("true", "false"):
        return str(value).strip().lower() == "true"
    raise ConfigError(f"context {key!r} must be true or false, got {value!r}")


def _int(ctx: Mapping[str, Any], key: str) -> int:
    try:
        return int(ctx[key])
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"context {key!r} must be an integer, got {ctx[key]!r}") from exc


_RETENTION_DAYS = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}
"""CloudWatch Logs' allowed retention periods (days) -> RetentionDays member."""


def _retention(days: int) -> logs.RetentionDays:
    if days not in _RETENTION_DAYS:
        raise ConfigError(f"context 'logRetentionDays' must be one of {sorted(_RETENTION_DAYS)}, got {days}")
    return logs.RetentionDays[_RETENTION_DAYS[days]]


def _plans(raw: Any) -> tuple[Plan, ...]:
    raw = _json_or(raw)
    if not isinstance(raw, Mapping) or "default" not in raw:
        raise ConfigError("context 'plans' must be a map of plan name -> limits with a 'default' plan")
    plans = []
    for name, limits in raw.items():
        limits = _json_or(limits)
        try:
            plans.append(
                Plan(
                    name=str(name),
                    rate_limit=float(limits["rateLimit"]),
                    burst_limit=int(limits["burstLimit"]),
                    quota_per_month=int(limits["quotaPerMonth"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"plan {name!r} needs rateLimit, burstLimit and quotaPerMonth, got {limits!r}") from exc
    return tuple(plans)


def _settings(ctx: Mapping[str, Any]) -> dict[str, str]:
    """The settings common to every function (hub.platform.settings.common_settings), context-overridden."""
    declared = {s.env_var for s in hub_settings.SETTINGS}
    overrides = dict(_json_or(ctx.get("settings") or {}))
    # A declared setting's env var given directly as a context key wins too.
    overrides.update({k: v for k, v in ctx.items() if k in declared})
    owned = hub_settings.stack_owned()
    for name in overrides:
        if name not in declared:
            raise ConfigError(f"unknown setting {name!r} in context (declared: {sorted(declared)})")
        if name in owned:
            raise ConfigError(f"setting {name!r} is set by the stack and cannot come from context")
        if name in LOCAL_ONLY_SETTINGS and str(overrides[name]).strip().lower() != LOCAL_ONLY_SETTINGS[name]:
            raise ConfigError(
                f"setting {name!r} is for the local hub only; a deployed stack (any stage) keeps "
                f"{LOCAL_ONLY_SETTINGS[name]!r}"
            )
    return hub_settings.common_settings({k: str(v) for k, v in overrides.items()})


def _index_names(ctx: Mapping[str, Any], key: str, replaced: bool) -> frozenset[str]:
    """A context list of `<Table>.<index>` names, each a declared index (or, with `replaced`, one it replaces)."""
    raw = _json_or(ctx[key])
    names = [n.strip() for n in raw.split(",") if n.strip()] if isinstance(raw, str) else list(raw)
    known = {
        f"{t.id}.{i.replaces if replaced else i.name}"
        for t in catalog.TABLES
        for i in t.indexes
        if i.replaces or not replaced
    } | ({f"{t.id}.{r.name}" for t in catalog.TABLES for r in t.retired} if replaced else set())
    unknown = sorted(set(names) - known)
    if unknown:
        raise ConfigError(f"context {key!r} names no such index: {unknown} (known: {sorted(known)})")
    return frozenset(names)


def load(ctx_get) -> HubConfig:
    """Build the config; `ctx_get(key)` reads one context value (None when unset)."""
    ctx: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        value = ctx_get(key)
        ctx[key] = default if value is None else value
    for s in hub_settings.SETTINGS:
        value = ctx_get(s.env_var)
        if value is not None:
            ctx[s.env_var] = value

    stage = str(ctx["stage"]).strip()
    if not stage or not stage.replace("-", "").isalnum():
        raise ConfigError(f"context 'stage' must be alphanumeric (dashes allowed), got {stage!r}")

    removal = str(ctx["removalPolicy"]).strip().lower()
    if removal not in ("", "retain", "destroy"):
        raise ConfigError(f"context 'removalPolicy' must be 'retain' or 'destroy', got {removal!r}")
    if removal == "destroy" or (removal == "" and (stage in DEV_STAGES or stage.startswith("dev"))):
        policy = RemovalPolicy.DESTROY
    else:
        policy = RemovalPolicy.RETAIN

    days = _int(ctx, "logRetentionDays")

    def path(key: str) -> Path:
        p = Path(str(ctx[key]))
        return p if p.is_absolute() else REPO_ROOT / p

    keep = _index_names(ctx, "keepReplacedIndexes", replaced=True)
    defer = _index_names(ctx, "deferIndexes", replaced=False)
    replaced_of = {f"{t.id}.{i.name}": f"{t.id}.{i.replaces or i.fallback}" for t in catalog.TABLES for i in t.indexes}
    orphaned = sorted(name for name in defer if replaced_of[name] not in keep)
    if orphaned:
        raise ConfigError(
            f"context 'deferIndexes' {orphaned}: a deferred index's replaced index must be in "
            "'keepReplacedIndexes', or its listings would have no index (docs/migration.md)"
        )
    return HubConfig(
        stage=stage,
        removal_policy=policy,
        log_retention=_retention(days),
        log_retention_days=days,
        api_throttle_rate_limit=float(ctx["apiThrottleRateLimit"]),
        api_throttle_burst_limit=_int(ctx, "apiThrottleBurstLimit"),
        reserve_concurrency=_bool(ctx, "reserveConcurrency"),
        plans=_plans(ctx["plans"]),
        settings=_settings(ctx),
        alarm_email=str(ctx["alarmEmail"] or ""),
        alarm_topic_arn=str(ctx["alarmTopicArn"] or ""),
        delivery_failure_rate_percent=float(ctx["deliveryFailureRatePercent"]),
        api_5xx_threshold=_int(ctx, "api5xxThreshold"),
        receiver_p99_latency_ms=_int(ctx, "receiverP99LatencyMs"),
        queue_age_alarm_seconds=_int(ctx, "queueAgeAlarmSeconds"),
        functions_root=path("functionsRoot"),
        layers_root=path("layersRoot"),
        lock_file=path("lockFile"),
        keep_replaced_indexes=keep,
        defer_indexes=defer,
        raw=ctx,
    )
