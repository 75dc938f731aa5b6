"""API Gateway keys of tenants (cloud only): created disabled, enabled once the tenant is stored.

A key exists in the gateway before its tenant row only while disabled, so no failure between the
two leaves a key the gateway accepts without a tenant (hub.tenants.registry orders the calls).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from botocore.exceptions import ClientError

from hub.platform.exceptions import Busy

log = logging.getLogger(__name__)

THROTTLING_CODES = frozenset({"TooManyRequestsException", "ThrottlingException", "LimitExceededException"})
"""CreateApiKey allows 5 requests/s per account (not raisable); throttled calls answer TooManyRequestsException.
LimitExceededException is also how API Gateway reports a rate limit on some management calls."""

RETRY_AFTER_S = 1


@lru_cache(maxsize=1)
def client():
    import boto3

    return boto3.client("apigateway")


def _call(operation: str, **params):
    """The API Gateway call; Busy (retry after RETRY_AFTER_S) when API Gateway refuses it for its rate limit."""
    try:
        return getattr(client(), operation)(**params)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in THROTTLING_CODES:
            raise Busy(
                "API Gateway is throttling API key changes; retry in a second", retry_after_s=RETRY_AFTER_S
            ) from error
        raise


def create_disabled(tenant_id: str, api_key: str, usage_plan_id: str) -> str:
    """A disabled key with the tenant's value, in the plan's usage plan; returns its id.

    When adding it to the usage plan fails, the key is discarded before the error is raised.
    """
    key_id = _call("create_api_key", name=f"tenant-{tenant_id}", value=api_key, enabled=False)["id"]
    try:
        _call("create_usage_plan_key", usagePlanId=usage_plan_id, keyId=key_id, keyType="API_KEY")
    except Exception:
        discard(key_id)
        raise
    return key_id


def enable(key_id: str) -> None:
    _call("update_api_key", apiKey=key_id, patchOperations=[{"op": "replace", "path": "/enabled", "value": "true"}])


def delete(key_id: str) -> None:
    """Deletes the key; a key already gone counts as deleted."""
    try:
        _call("delete_api_key", apiKey=key_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NotFoundException":
            raise


def discard(key_id: str) -> None:
    """Best-effort cleanup of a key that never got a tenant: it is disabled, so a leftover is refused anyway."""
    try:
        delete(key_id)
    except Exception:  # cleanup after another failure; that failure is what the caller reports
        log.warning(
            "could not delete disabled API key %s; it stays disabled (the gateway refuses it)", key_id, exc_info=True
        )
