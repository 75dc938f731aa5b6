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
