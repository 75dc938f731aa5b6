"""Every knob of the stack, read from CDK context, with its default: the ONE place (`HubConfig`).

Set any of them with `cdk synth -c key=value` (or `python app.py` with the same
context in cdk.json). Structured values (`plans`, `settings`) accept JSON strings on
the command line, e.g. `-c plans='{"default": {"rateLimit": 5, ...}}'`.

Runtime settings (hub.platform.settings) are NOT listed here: every declared setting with a
non-empty default is passed to the functions, and any of them can be overridden with
`-c settings='{"WEBHOOK_RETRY_ATTEMPTS": "5"}'` or directly with `-c WEBHOOK_RETRY_ATTEMPTS=5`.

A bad value fails the synth with a `ConfigError` naming the context key, e.g.
`context 'logRetentionDays': must be one of [1, 3, ...], got 31`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from hub.platform import catalog
from hub.platform import settings as hub_settings

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_STAGE = "prod"
DEV_STAGES = frozenset({"dev", "development", "test", "sandbox", "local", "ci"})
"""Stages whose data may be thrown away with the stack (removal policy DESTROY)."""

LOCAL_ONLY_SETTINGS = {"HUB_LOCAL": "false"}
"""Settings only the local hub may change: a deployed stack is never local (HUB_LOCAL=true would allow
http:// subscribers on loopback, the Lambda Runtime API included, and caller-chosen tenant keys)."""

RETENTION_DAYS = {
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


class ConfigError(ValueError):
    pass


def _json_or(value: Any) -> Any:
    """Context from the CLI arrives as strings; structured values may be JSON."""
    if isinstance(value, str) and value.strip()[:1] in "{[":
        return json.loads(value)
    return value


def _stripped_lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _name_list(value: Any) -> Any:
    """`a,b` on the command line, a JSON list, or a list in cdk.json."""
    value = _json_or(value)
    return [n.strip() for n in value.split(",") if n.strip()] if isinstance(value, str) else value


JsonValue = BeforeValidator(_json_or)


class Plan(BaseModel):
    """A usage plan (tenant billing tier): per-key throttle (requests/s, burst) and monthly request quota."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = ""
    """Its key in the `plans` map."""
    rate_limit: float = Field(alias="rateLimit", gt=0)
    burst_limit: int = Field(alias="burstLimit", ge=0)
    quota_per_month: int = Field(alias="quotaPerMonth", gt=0)


DEFAULT_PLANS: dict[str, dict[str, int]] = {
    "default": {"rateLimit": 10, "burstLimit": 20, "quotaPerMonth": 100_000},
    "pro": {"rateLimit": 100, "burstLimit": 200, "quotaPerMonth": 5_000_000},
}
"""Usage plans by name. `default` must exist: tenants without a plan land in it."""


class HubConfig(BaseModel):
    """The stack's context: each field's alias is its context key; the default applies when the key is unset."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    stage: Annotated[str, BeforeValidator(lambda v: str(v).strip())] = Field(
        DEFAULT_STAGE, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$", description="Stage: names the stack WaWebhookHub-<stage>"
    )
    removal: Annotated[Literal["", "retain", "destroy"], BeforeValidator(_stripped_lower)] = Field(
        "", alias="removalPolicy", description='"retain" or "destroy"; "" (default) = by stage'
    )
    log_retention_days: int = Field(30, alias="logRetentionDays", description="Days CloudWatch keeps the logs")
    api_throttle_rate_limit: float = Field(200, alias="apiThrottleRateLimit", gt=0)
    api_throttle_burst_limit: int = Field(400, alias="apiThrottleBurstLimit", ge=0)
    reserve_concurrency: bool = Field(
        True,
        alias="reserveConcurrency",
        description="Whether functions get their catalog reserved concurrency (catalog.Function."
        "reserved_concurrency); false on accounts whose Lambda concurrency quota is under 100 + that",
    )
    plans_by_name: Annotated[dict[str, Plan], JsonValue] = Field(
        DEFAULT_PLANS,  # type: ignore[arg-type]  # validated (validate_default)
        alias="plans",
        description="Usage plans by name (a map of name -> rateLimit, burstLimit, quotaPerMonth), 'default' included",
    )
    settings: Annotated[dict[str, str], JsonValue] = Field(
        {},
        alias="settings",
        description="Runtime settings passed to every function (declared settings, non-empty, context-overridden)",
    )
    alarm_email: Annotated[str, BeforeValidator(lambda v: v or "")] = Field("", alias="alarmEmail")
    alarm_topic_arn: Annotated[str, BeforeValidator(lambda v: v or "")] = Field("", alias="alarmTopicArn")
    delivery_failure_rate_percent: float = Field(20, alias="deliveryFailureRatePercent", gt=0, le=100)
    api_5xx_threshold: int = Field(5, alias="api5xxThreshold", ge=1)
    receiver_p99_latency_ms: int = Field(1000, alias="receiverP99LatencyMs", ge=1)
    queue_age_alarm_seconds: int = Field(
        3600, alias="queueAgeAlarmSeconds", ge=1, description="Above the longest retry schedule you configure"
    )
    functions_root: Path = Field(Path("functions"), alias="functionsRoot", description="The function folders")
    layers_root: Path = Field(Path("layers"), alias="layersRoot")
    lock_file: Path = Field(
        Path("requirements.lock"), alias="lockFile", description="What the dependency layer installs (infra/lock.py)"
    )
    keep_replaced_indexes: Annotated[frozenset[str], BeforeValidator(_name_list)] = Field(
        frozenset(),
        alias="keepReplacedIndexes",
        description="`<Table>.<index>` names of replaced (catalog.Index.replaces) or retired (catalog.Table.retired) "
        "indexes the tables keep "
        "(docs/migration.md)",
    )
    defer_indexes: Annotated[frozenset[str], BeforeValidator(_name_list)] = Field(
        frozenset(),
        alias="deferIndexes",
        description="`<Table>.<index>` names of declared indexes the tables do not have yet (docs/migration.md)",
    )

    @field_validator("log_retention_days")
    @classmethod
    def _a_cloudwatch_period(cls, days: int) -> int:
        if days not in RETENTION_DAYS:
            raise ValueError(f"must be one of {sorted(RETENTION_DAYS)}, got {days}")
        return days

    @field_validator("plans_by_name")
    @classmethod
    def _named_plans(cls, plans: dict[str, Plan]) -> dict[str, Plan]:
        if "default" not in plans:
            raise ValueError("must have a 'default' plan (tenants without a plan land in it)")
        return {name: plan.model_copy(update={"name": name}) for name, plan in plans.items()}

    @field_validator("settings")
    @classmethod
    def _declared_settings(cls, overrides: dict[str, str]) -> dict[str, str]:
        """The settings common to every function (hub.platform.settings.common_settings), context-overridden."""
        declared = {s.env_var for s in hub_settings.SETTINGS}
        owned = hub_settings.stack_owned()
        for name, value in overrides.items():
            if name not in declared:
                raise ValueError(f"unknown setting {name!r} (declared: {sorted(declared)})")
            if name in owned:
                raise ValueError(f"setting {name!r} is set by the stack and cannot come from context")
            if name in LOCAL_ONLY_SETTINGS and value.strip().lower() != LOCAL_ONLY_SETTINGS[name]:
                raise ValueError(
                    f"setting {name!r} is for the local hub only; a deployed stack (any stage) keeps "
                    f"{LOCAL_ONLY_SETTINGS[name]!r}"
                )
        return hub_settings.common_settings(overrides)

    @field_validator("settings", mode="before")
    @classmethod
    def _texts(cls, overrides: Any) -> Any:
        overrides = _json_or(overrides)
        return {k: str(v) for k, v in overrides.items()} if isinstance(overrides, Mapping) else overrides

    @field_validator("functions_root", "layers_root", "lock_file")
    @classmethod
    def _under_the_repository(cls, path: Path) -> Path:
        return path if path.is_absolute() else REPO_ROOT / path

    @field_validator("keep_replaced_indexes")
    @classmethod
    def _replaced_indexes(cls, names: frozenset[str]) -> frozenset[str]:
        replaced = {f"{t.id}.{i.replaces}" for t in catalog.TABLES for i in t.indexes if i.replaces}
        return _known_indexes(names, replaced | {f"{t.id}.{r.name}" for t in catalog.TABLES for r in t.retired})

    @field_validator("defer_indexes")
    @classmethod
    def _declared_indexes(cls, names: frozenset[str]) -> frozenset[str]:
        return _known_indexes(names, {f"{t.id}.{i.name}" for t in catalog.TABLES for i in t.indexes})

    @model_validator(mode="after")
    def _deferred_only_while_replaced_kept(self) -> HubConfig:
        replaced_of = {
            f"{t.id}.{i.name}": f"{t.id}.{i.replaces or i.fallback}" for t in catalog.TABLES for i in t.indexes
        }
        orphaned = sorted(name for name in self.defer_indexes if replaced_of[name] not in self.keep_replaced_indexes)
        if orphaned:
            raise ValueError(
                f"'deferIndexes' {orphaned}: a deferred index's replaced index must be in "
                "'keepReplacedIndexes', or its listings would have no index (docs/migration.md)"
            )
        return self

    @property
    def removal_policy(self) -> RemovalPolicy:
        dev = self.stage in DEV_STAGES or self.stage.startswith("dev")
        if self.removal == "destroy" or (self.removal == "" and dev):
            return RemovalPolicy.DESTROY
        return RemovalPolicy.RETAIN

    @property
    def log_retention(self) -> logs.RetentionDays:
        return logs.RetentionDays[RETENTION_DAYS[self.log_retention_days]]

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

    @property
    def plans(self) -> tuple[Plan, ...]:
        return tuple(self.plans_by_name.values())

    def plan_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.plans)


def _known_indexes(names: frozenset[str], known: set[str]) -> frozenset[str]:
    unknown = sorted(names - known)
    if unknown:
        raise ValueError(f"names no such index: {unknown} (known: {sorted(known)})")
    return names


CONTEXT_KEYS = tuple(field.alias or name for name, field in HubConfig.model_fields.items())
"""The context keys the stack reads (besides each declared runtime setting's variable)."""


def load(ctx_get: Callable[[str], Any]) -> HubConfig:
    """Build the config; `ctx_get(key)` reads one context value (None when unset). A declared runtime
    setting's variable given directly as a context key overrides the same one in `settings`."""
    ctx = {key: value for key in CONTEXT_KEYS if (value := ctx_get(key)) is not None}
    direct = {s.env_var: value for s in hub_settings.SETTINGS if (value := ctx_get(s.env_var)) is not None}
    if direct:
        try:
            overrides = dict(_json_or(ctx.get("settings") or {}))
        except (TypeError, ValueError) as error:
            raise ConfigError(f"context 'settings' must be a JSON map of setting -> value: {error}") from error
        ctx["settings"] = {**overrides, **direct}
    try:
        return HubConfig.model_validate(ctx)
    except ValidationError as error:
        raise ConfigError(_explained(error)) from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"context value is not valid JSON: {error}") from None


def _explained(error: ValidationError) -> str:
    """One line per bad context key: `context 'key': what is wrong (got value)`."""
    lines = []
    for problem in error.errors(include_url=False):
        message = problem["msg"].removeprefix("Value error, ")
        if not problem["loc"]:  # a rule across keys: the message names them
            lines.append(f"context: {message}")
            continue
        key = ".".join(str(part) for part in problem["loc"])
        got = "" if "got" in message else f" (got {problem.get('input')!r})"
        lines.append(f"context {key!r}: {message}{got}")
    return "; ".join(lines)
