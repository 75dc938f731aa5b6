"""Public on-demand prices, us-east-1 (USD), used by the cost figure. One place to update them."""

LAMBDA_ARM64_PER_REQUEST = 0.20 / 1_000_000
"""Lambda requests (arm64 and x86 alike): $0.20 per 1M."""

LAMBDA_ARM64_PER_GB_SECOND = 0.0000133334
"""Lambda duration on arm64 (first pricing tier): $0.0000133334 per GB-second, billed per 1 ms."""

DYNAMODB_PER_WRITE_REQUEST_UNIT = 0.625 / 1_000_000
"""DynamoDB on-demand: $0.625 per million write request units (1 WRU = a standard write of up to 1 KB;
a transactional write costs 2 per KB)."""

DYNAMODB_PER_READ_REQUEST_UNIT = 0.125 / 1_000_000
"""DynamoDB on-demand: $0.125 per million read request units (1 RRU = a strongly consistent read of up
to 4 KB, or two eventually consistent ones; a transactional read costs 2)."""

SQS_STANDARD_PER_REQUEST = 0.40 / 1_000_000
"""SQS standard queue: $0.40 per million requests (each 64 KB chunk of a payload is one request;
the monthly free tier is ignored)."""

API_GATEWAY_REST_PER_REQUEST = 3.50 / 1_000_000
"""API Gateway REST API: $3.50 per million requests (first 333M per month)."""

API_GATEWAY_HTTP_PER_REQUEST = 1.00 / 1_000_000
"""API Gateway HTTP API: $1.00 per million requests (first 300M per month, each 512 KB chunk)."""

# --- fixed monthly prices (an idle deployment), us-east-1 list prices as of 2026-11-30: AWS's pricing pages
# could not be opened from here; the figures were cross-checked against published summaries of them (not
# verified live). Free tiers (10 alarm metrics, 3 dashboards per account) ignored. ----------------------------

CLOUDWATCH_ALARM_METRIC_PER_MONTH = 0.10
"""Standard-resolution alarm: $0.10 per alarm metric per month (a metric-math alarm pays for each metric it reads)."""

CLOUDWATCH_HIGH_RESOLUTION_ALARM_METRIC_PER_MONTH = 0.30
"""High-resolution alarm (period under 60 s): $0.30 per alarm metric per month."""

CLOUDWATCH_DASHBOARD_PER_MONTH = 3.00
"""CloudWatch dashboard: $3.00 per dashboard per month."""

SECRETS_MANAGER_SECRET_PER_MONTH = 0.40
"""Secrets Manager: $0.40 per secret per month (API calls $0.05 per 10,000, not idle)."""

KMS_CUSTOMER_KEY_PER_MONTH = 1.00
"""KMS customer managed key: $1.00 per key per month."""

DYNAMODB_PITR_PER_GB_MONTH = 0.20
"""DynamoDB continuous backups (point-in-time recovery): $0.20 per GB-month of table data."""

DYNAMODB_STORAGE_PER_GB_MONTH = 0.25
"""DynamoDB Standard table storage: $0.25 per GB-month (first 25 GB per account free)."""
