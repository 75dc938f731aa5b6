"""Recoveries: re-send every failed delivery of one subscription since a given time, in the background.

`start` records the recovery (hub.delivery.endpoints_store) and queues its first page message on the delivery queue;
the worker handles a page (`run_page`) like any delivery: it lists PAGE_SIZE of the subscription's logs created in
the recovery's span, oldest first, re-queues the failed ones (each one message, as a manual retry does, with a
fresh retry budget), records its progress, and queues the next page PAGE_DELAY_S later. So a recovery never holds
more than one page's worth of messages ahead of live traffic, whoever's, and its progress is readable at any time.
Bounded: the span starts at most MAX_SPAN_DAYS back (and never before the logs' retention), and at most
MAX_DELIVERIES are re-sent (then it stops, status `stopped`: start another from the last re-sent one's time).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hub.delivery import endpoints_store as store
from hub.delivery import queue
from hub.delivery import store as delivery_store
from hub.delivery.models import DeliveryLog, DeliveryMessage, Recovery, RecoveryPage
from hub.delivery.subscription_registry import Scope, load
from hub.platform import ddb, settings
from hub.platform.clock import iso
from hub.platform.exceptions import Conflict, Invalid, NotFound, Unavailable

MAX_SPAN_DAYS = 14
MAX_DELIVERIES = 5000
PAGE_SIZE = 50
PAGE_DELAY_S = 2
KEEP_DAYS = 7
"""How long a recovery's record (its progress) is kept after its last page."""


class StartRecovery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime = Field(
        description=f"Re-send the failed deliveries created from this time on (at most {MAX_SPAN_DAYS} days back)"
    )


def public(recovery: Recovery) -> dict[str, Any]:
    return recovery.model_dump(exclude={"tenantId", "sessionCreatedAt", "cursor", "page", "expiresAt"})


def start(scope: Scope, subscription_id: str, request: StartRecovery) -> dict[str, Any]:
    """Records a recovery and queues its first page; answers at once (202) with its id and bounds."""
    listing = load(scope)
    subscription = next((s for s in listing.subscriptions if s.id == subscription_id), None)
    if subscription is None:
        raise NotFound.of("Subscription")
    if not subscription.enabled:
        raise Conflict("The subscription is disabled: re-enable it (PATCH enabled: true) before recovering")
    now = datetime.now(UTC)
    oldest = now - timedelta(days=min(MAX_SPAN_DAYS, settings.load().log_retention_days))
    since = request.since.astimezone(UTC)
    if not oldest <= since <= now:
        message = f"since must be between {iso(oldest)} and now (at most {MAX_SPAN_DAYS} days back)"
        raise Invalid.field("since", message)
    recovery = Recovery(
        recoveryId="rcv_" + secrets.token_hex(10),
        tenantId=scope.tenant_id,
        sessionId=scope.session_id,
        sessionCreatedAt=listing.session.createdAt if listing.session else None,
        subscriptionId=subscription_id,
        since=iso(since),
        until=iso(now),
        createdAt=iso(now),
        updatedAt=iso(now),
        expiresAt=int((now + timedelta(days=KEEP_DAYS)).timestamp()),
    )
    store.put_recovery(recovery)
    if queue.enqueue([_page_message(recovery)]):
        raise Unavailable("The recovery could not be queued; retry")
    return {**public(recovery), "limits": {"maxDeliveries": MAX_DELIVERIES, "maxSpanDays": MAX_SPAN_DAYS}}


def get(tenant_id: str, recovery_id: str) -> dict[str, Any]:
    found = store.get_recovery(tenant_id, recovery_id)
    if found is None:
        raise NotFound.of("Recovery")
    return public(found)


def _page_message(recovery: Recovery) -> DeliveryMessage:
    return DeliveryMessage(
        webhookId=recovery.recoveryId,
        recovery=RecoveryPage(tenantId=recovery.tenantId, recoveryId=recovery.recoveryId, page=recovery.page),
    )


def _wanted(recovery: Recovery, log: DeliveryLog) -> bool:
    """A failed delivery of the recovery's subscription (of the same session incarnation for a session's)."""
    target = log.target
    if log.status != "failed" or target.subscriptionId != recovery.subscriptionId:
        return False
    if recovery.sessionId is None:
        return bool(target.tenantWide)
    return not target.tenantWide and target.sessionCreatedAt in (None, recovery.sessionCreatedAt)


def run_page(page: RecoveryPage) -> bool:
    """Re-queues one page of the recovery's failed deliveries and queues the next page (the worker calls it);
    False when SQS did not take the next page: the page is to be run again (its progress is not recorded, and
    what it re-queued is pending, so running it again re-queues nothing twice)."""
    recovery = store.get_recovery(page.tenantId, page.recoveryId)
    if recovery is None or recovery.page != page.page or recovery.status in ("done", "stopped"):
        return True  # gone, or a copy of a page already done
    logs, last_key = delivery_store.created_between(
        recovery.tenantId,
        recovery.sessionId,
        recovery.since,
        recovery.until,
        PAGE_SIZE,
        ddb.decode_cursor(recovery.cursor),
    )
    now = iso(datetime.now(UTC))
    chosen = [log for log in logs if _wanted(recovery, log)][: MAX_DELIVERIES - recovery.resent]
    for log in chosen:
        delivery_store.requeue(log, now)
    refused = set(queue.enqueue([DeliveryMessage(webhookId=log.webhookId) for log in chosen]))
    for webhook_id in refused:  # back to failed, so the log says it was not re-sent and a later recovery finds it
        delivery_store.mark_failed(webhook_id, "recovery: SQS did not take the re-send; recover again", now)
    resent = recovery.resent + len(chosen) - len(refused)
    status = "stopped" if resent >= MAX_DELIVERIES else "done" if last_key is None else "running"
    recovery = recovery.model_copy(
        update={
            "scanned": recovery.scanned + len(logs),
            "resent": resent,
            "cursor": ddb.encode_cursor(last_key),
            "page": recovery.page + 1,
            "status": status,
            "updatedAt": now,
            "expiresAt": int((datetime.now(UTC) + timedelta(days=KEEP_DAYS)).timestamp()),
        }
    )
    if status == "running" and queue.enqueue([_page_message(recovery)], delay_seconds=PAGE_DELAY_S):
        return False
    store.put_recovery(recovery)
    return True
