"""Runtime settings: every environment variable the hub reads, with its default."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from hub import catalog


@dataclass(frozen=True)
class Setting:
    env_var: str
    default: str
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting("WEBHOOK_RETRY_ATTEMPTS", "3", "Retries after the first delivery attempt (per subscription overridable, 0..10)"),
    Setting("WEBHOOK_RETRY_DELAY", "5000", "Base retry delay in ms; attempt n waits base * 2**(n-1)"),
    Setting("WEBHOOK_TIMEOUT_MS", "10000", "Subscriber request timeout in ms (max 30000)"),
    Setting("WEBHOOK_LOG_RETENTION_DAYS", "30", "Days a delivery log is kept (DynamoDB TTL)"),
    Setting("MAX_QR_ATTEMPTS", "3", "QR codes per connection cycle before the session is auto-disconnected"),
    Setting("MAX_BODY_BYTES", "262144", "Largest accepted request body"),
    Setting("DEDUPE_WINDOW_HOURS", "24", "How long a received event is remembered for duplicate detection"),
    Setting("MAX_CLOCK_SKEW_SECONDS", "300", "How far past the receive time an event time is trusted; later ones are ordered by the receive time"),
    Setting("MAX_JSON_DEPTH", "64", "Deepest nesting of arrays/objects accepted in a JSON body (checked before parsing)"),
    Setting("HUB_LOCAL", "false", "true when running as the local hub: allows http:// subscribers on loopback"),
    Setting("PUBLIC_BASE_URL", "", "Base URL the hub is reached at, used for receiverUrl (defaults to the request's host)"),
    Setting("ADMIN_API_KEY", "", "Operator key for /api/admin (locally; in the cloud read from ADMIN_KEY_SECRET_ARN)"),
    Setting("ADMIN_KEY_SECRET_ARN", "", "Secrets Manager secret holding the operator key (set by the stack)"),
    Setting("POWERTOOLS_SERVICE_NAME", "wa-webhook-hub", "Service name in logs, traces and metrics"),
    Setting("POWERTOOLS_METRICS_NAMESPACE", "WaWebhookHub", "CloudWatch namespace of the hub's metrics"),
    Setting("LOG_LEVEL", "INFO", "Log level"),
    Setting("PYDANTIC_DISABLE_PLUGINS", "__all__", "Read by pydantic: skips the plugin scan of installed packages at cold start"),
) + tuple(
    Setting(t.env_var, f"wa-hub-{t.id.lower()}", f"DynamoDB table {t.id} (set by the stack)") for t in catalog.TABLES
) + tuple(
    Setting(v, "", f"SQS queue URL for {q.id} (set by the stack)")
    for q in catalog.QUEUES
    for v in (q.env_var, q.dead_letter_env_var)
)

_DEFAULTS = {s.env_var: s.default for s in SETTINGS}


def env(name: str) -> str:
    """The value of a declared setting, falling back to its default."""
    return os.environ.get(name) or _DEFAULTS[name]


@dataclass(frozen=True)
class Settings:
    retry_attempts: int
    retry_delay_ms: int
    timeout_ms: int
    log_retention_days: int
    max_qr_attempts: int
    max_body_bytes: int
    dedupe_window_hours: int
    max_clock_skew_seconds: int
    max_json_depth: int
    local: bool
    public_base_url: str


@lru_cache(maxsize=1)
def load() -> Settings:
    return Settings(
        retry_attempts=min(max(int(env("WEBHOOK_RETRY_ATTEMPTS")), 0), catalog.MAX_RETRY_ATTEMPTS),
        retry_delay_ms=max(int(env("WEBHOOK_RETRY_DELAY")), 0),
        timeout_ms=min(max(int(env("WEBHOOK_TIMEOUT_MS")), 100), 30000),
        log_retention_days=max(int(env("WEBHOOK_LOG_RETENTION_DAYS")), 1),
        max_qr_attempts=max(int(env("MAX_QR_ATTEMPTS")), 1),
        max_body_bytes=int(env("MAX_BODY_BYTES")),
        dedupe_window_hours=max(int(env("DEDUPE_WINDOW_HOURS")), 1),
        max_clock_skew_seconds=max(int(env("MAX_CLOCK_SKEW_SECONDS")), 0),
        max_json_depth=min(max(int(env("MAX_JSON_DEPTH")), 2), 512),
        local=env("HUB_LOCAL").lower() == "true",
        public_base_url=env("PUBLIC_BASE_URL").rstrip("/"),
    )


def table_name(table: catalog.Table) -> str:
    return env(table.env_var)
