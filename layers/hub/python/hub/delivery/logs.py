"""Webhook management (docs/contract.md §2): test sends, logs, manual retry, stats, clearing."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.counters import store as counters
from hub.delivery import outbound, payloads, queue, sender, signing, urls
from hub.delivery import store as delivery_store
from hub.delivery.models import DeliveryLog, DeliveryMessage
from hub.delivery.subscriptions import SigningSecret
from hub.platform import catalog, ddb, security, settings
from hub.platform.clock import iso
from hub.platform.exceptions import ChangedMeanwhile, Invalid, NotFound, Unavailable
from hub.sessions import purging
from hub.sessions import store as session_store


class TestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048)
    secret: SigningSecret | None = None
    instanceId: str | None = Field(default=None, max_length=128)


class ClearRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instanceId: str | None = Field(default=None, max_length=128)
    days: int | None = Field(default=None, ge=0, le=3650)


def owned_log(tenant_id: str, webhook_id: str) -> DeliveryLog:
    log = delivery_store.get(webhook_id)
    if log is None or log.tenantId != tenant_id:
        raise NotFound.of("Webhook log")
    return log


def detail(tenant_id: str, webhook_id: str) -> dict[str, Any]:
    """One log as GET /api/webhook/logs/{webhookId} shows it, with the payload from its event's record."""
    return payloads.with_payload(owned_log(tenant_id, webhook_id)).public()


def test_timeout_ms() -> int:
    """How long a test send waits for the subscriber: WEBHOOK_TIMEOUT_MS, capped by catalog.WEBHOOK_TEST_TIMEOUT_MS."""
    return min(settings.load().timeout_ms, catalog.WEBHOOK_TEST_TIMEOUT_MS)


def send_test(tenant_id: str, request: TestRequest) -> dict[str, Any]:
    """Sends a signed `webhook.test` now and reports how the subscriber answered.

    Signed with `secret` when given, else with the named instance's default subscription
    secret, else with a one-off secret returned in the answer so the signature can be checked.
    """
    try:
        urls.check_subscriber_url(request.url, local=settings.load().local)
    except urls.UnsafeUrl as error:
        raise Invalid.field("url", str(error)) from error
    secret, shown_secret = request.secret, None
    if secret is None and request.instanceId:
        record = session_store.get(tenant_id, request.instanceId)
        if record is None:
            raise NotFound.of("Session")
        secret = next((s.secret for s in record.subscriptions), None)
    if secret is None:
        secret = shown_secret = security.new_signing_secret()
    now = datetime.now(UTC)
    event_id = "evt_test_" + secrets.token_hex(10)
    body = (
        outbound.OutboundEvent(
            id=event_id,
            event="webhook.test",
            instanceId=request.instanceId or "",
            timestamp=iso(now),
            data={"message": "Test event from the WhatsApp webhook hub", "tenantId": tenant_id},
            source=outbound.Source(dialect="hub", event="webhook.test"),
        )
        .model_dump_json()
        .encode("utf-8")
    )
    headers = signing.headers(
        body,
        [secret],
        message_id=event_id,
        webhook_id=event_id,
        event="webhook.test",
        attempt=1,
        timestamp=int(now.timestamp()),
    )
    result = sender.post(request.url, body, headers, timeout_ms=test_timeout_ms())
    answer: dict[str, Any] = {
        "url": request.url,
        "eventId": event_id,
        "statusCode": result.status_code,
        "ok": result.ok,
        "durationMs": result.duration_ms,
        "error": result.error,
        "response": result.response_excerpt,
    }
    if shown_secret:
        answer["secret"] = shown_secret
    return answer


def list_logs(
    tenant_id: str, *, instance_id: str | None, status: str | None, event: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    logs, last_key = delivery_store.query_page(
        tenant_id,
        instance_id=instance_id,
        status=status,
        event=event,
        limit=limit,
        cursor=ddb.decode_cursor(cursor),
    )
    return [log.public(with_attempts=False) for log in logs], ddb.encode_cursor(last_key)


def retry(tenant_id: str, webhook_id: str) -> dict[str, Any]:
    """Re-queues a delivery now, whatever its status, with a fresh retry budget."""
    log = owned_log(tenant_id, webhook_id)
    now = datetime.now(UTC)
    try:
        updated = delivery_store.requeue(log, iso(now))
    except ChangedMeanwhile as error:
        raise NotFound.of("Webhook log") from error
    if queue.enqueue([DeliveryMessage(webhookId=webhook_id)]):
        raise Unavailable("Delivery could not be queued; retry")
    return updated.public()


def stats(tenant_id: str, instance_id: str | None, days: int) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    rows = counters.read_stats(tenant_id, instance_id, first.isoformat(), today.isoformat())
    totals: Counter[str] = Counter()
    for row in rows:
        totals.update({k: int(v) for k, v in row.items() if k not in ("pk", "sk")})
    total, success, failed = totals["total"], totals["success"], totals["failed"]
    top = sorted(
        ((k[3:], n) for k, n in totals.items() if k.startswith("ev#") and n > 0), key=lambda kv: (-kv[1], kv[0])
    )
    return {
        "period": f"{days} days",
        "total": total,
        "success": success,
        "failed": failed,
        "successRate": f"{(success / total * 100) if total else 0:.2f}",
        "topEvents": [{"event": name, "count": count} for name, count in top[:10]],
        "instanceId": instance_id,
    }


def clear(tenant_id: str, request: ClearRequest) -> dict[str, Any]:
    """Deletes matching logs for at most catalog.REQUEST_WORK_BUDGET_S; `complete: false` asks the caller
    to send the same request again (it carries on where this one stopped)."""
    cutoff = None
    if request.days is not None:
        cutoff = iso(datetime.now(UTC) - timedelta(days=request.days))
    swept = delivery_store.sweep(tenant_id, request.instanceId, until=purging.deadline(), cutoff=cutoff)
    return {
        "deleted": swept.deleted,
        "complete": swept.complete,
        "instanceId": request.instanceId,
        "days": request.days,
    }
