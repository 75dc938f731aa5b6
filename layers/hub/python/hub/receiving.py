"""Accepting one normalized gateway event: dedupe, state, fan-out, all in one transaction.

The event record (dedupe), the session's new state and summary counters (session
events only), the usage counter and one pending delivery log per matching
subscription are written atomically, so
two concurrent copies of an event cannot both apply, and an accepted event always
has its deliveries. The queue messages are sent after the commit; if that send
fails the gateway gets a 503, and its retry (a duplicate) sends them again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from hub import errors, outbound, queue, settings, state
from hub.clock import iso
from hub.deliveries import DeliveryLog, Target
from hub.events import NormalizedEvent, SessionStatus
from hub.store import counters, ddb
from hub.store import deliveries as delivery_store
from hub.store import events as event_store
from hub.store import sessions as session_store
from hub.store.sessions import SessionRecord

MAX_CONFLICT_RETRIES = 5


class Receipt(BaseModel):
    eventId: str
    event: str
    duplicate: bool


def _session_data(event: NormalizedEvent, before: state.SessionView, after: state.SessionView,
                  record: SessionRecord, applied: bool) -> dict[str, Any]:
    lifecycle = event.lifecycle
    assert lifecycle is not None
    shown = after if applied else None
    data: dict[str, Any] = {
        **event.data,
        "status": (shown.status if shown else lifecycle.status).value,
        "previousStatus": before.status.value,
        "message": shown.message if shown else (lifecycle.message or state.STATUS_MESSAGES[lifecycle.status]),
        "qr": shown.qr if shown else lifecycle.qr,
        "qrImage": shown.qr_image if shown else lifecycle.qr_image,
        "qrAttempts": after.qr_attempts,
        "phoneNumber": lifecycle.phone_number or record.state.phone_number,
        "displayName": lifecycle.display_name or record.state.display_name,
        "reason": shown.reason if shown else lifecycle.reason,
        "loadingPercent": lifecycle.loading_percent,
    }
    if not applied:
        data["stale"] = True
    return {k: v for k, v in data.items() if v is not None}


def _with_qr_image(before: state.SessionState, after: state.SessionState) -> state.SessionState:
    if not state.needs_qr_image(before, after):
        return after
    from hub import qr

    return after.model_copy(update={"qr_image": qr.png_data_url(after.qr)})


def _envelope(event: NormalizedEvent, event_id: str, occurred_at: datetime, data: dict[str, Any], event_type: str) -> str:
    return outbound.OutboundEvent(
        id=event_id,
        event=event_type,
        instanceId=event.session_id,
        timestamp=iso(occurred_at),
        data=data,
        source=outbound.Source(dialect=event.dialect, event=event.source_event),
    ).model_dump_json()


def _delivery_logs(record: SessionRecord, event_id: str, event_type: str, payload: str, now: datetime) -> list[DeliveryLog]:
    config = settings.load()
    created = iso(now)
    expires = int((now + timedelta(days=config.log_retention_days)).timestamp())
    return [
        DeliveryLog(
            webhookId=outbound.webhook_id(event_id, sub.id),
            tenantId=record.tenantId,
            instanceId=record.sessionId,
            eventId=event_id,
            event=event_type,
            payload=payload,
            target=Target(subscriptionId=sub.id, url=sub.url, secret=sub.secret, retry=sub.retry),
            createdAt=created,
            updatedAt=created,
            expiresAt=expires,
        )
        for sub in record.subscriptions
        if sub.wants(event_type)
    ]


class _Plan(BaseModel):
    items: list[dict[str, Any]]
    event_type: str
    webhook_ids: list[str]


def _session_items(record: SessionRecord, event: NormalizedEvent, key: str, occurred_at: datetime,
                   now: datetime) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """The writes a lifecycle event makes to its session (state, summary counters), its outbound data and type."""
    config = settings.load()
    before_view = state.view(record.state, config.max_qr_attempts)
    new_state = state.apply(record.state, event, key, config.max_qr_attempts)
    new_state = _with_qr_image(record.state, new_state)
    after_view = state.view(new_state, config.max_qr_attempts)
    applied = new_state.base_key != record.state.base_key
    data = _session_data(event, before_view, after_view, record, applied)
    event_type = event.type
    if event_type == "session.qr" and after_view.status is not SessionStatus.QR_GENERATED and applied:
        event_type = "session.status"
    after = record.model_copy(update={
        "state": new_state,
        "status": after_view.status.value,
        "bucket": after_view.bucket,
        "updatedAt": iso(now),
        "lastEventAt": iso(occurred_at) if new_state.last_key != record.state.last_key else record.lastEventAt,
    })
    items = [
        session_store.state_update_item(record, after),
        *counters.summary_updates(
            record.tenantId, record.userId,
            counters.transition_deltas((record.status, record.bucket), (after.status, after.bucket)),
        ),
    ]
    return items, data, event_type


class _Plan(BaseModel):
    items: list[dict[str, Any]]
    event_type: str
    webhook_ids: list[str]
    session_item: int | None
    """Index of the session's conditional update in `items`, when the event changes the session."""


def _plan(record: SessionRecord, event: NormalizedEvent, key: str, event_id: str,
          occurred_at: datetime, now: datetime) -> _Plan:
    """One transaction: event record, session writes (lifecycle events only), usage, delivery logs.

    Other events (messages, acks, ...) leave the session item alone, so a busy session's
    message traffic never contends with its status changes.
    """
    config = settings.load()
    session_items: list[dict[str, Any]] = []
    event_type, data = event.type, event.data
    if event.lifecycle is not None:
        session_items, data, event_type = _session_items(
            record, event, state.order_key(occurred_at, event_id), occurred_at, now,
        )
    payload = _envelope(event, event_id, occurred_at, data, event_type)
    logs = _delivery_logs(record, event_id, event_type, payload, now)
    expires = int((now + timedelta(hours=config.dedupe_window_hours)).timestamp())
    items = [
        event_store.record_item(
            record.sessionId, key,
            {"eventId": event_id, "event": event_type, "tenantId": record.tenantId,
             "receivedAt": iso(now), "payload": payload, "webhookIds": [log.webhookId for log in logs]},
            int(now.timestamp()), expires,
        ),
        *session_items,
        counters.add_items(counters.usage_key(record.tenantId, now.strftime("%Y-%m-%d")), {"eventsReceived": 1}),
        *(delivery_store.create_item(log) for log in logs),
    ]
    return _Plan(items=items, event_type=event_type, webhook_ids=[log.webhookId for log in logs],
                 session_item=1 if session_items else None)


def _dispatch(webhook_ids: list[str]) -> None:
    try:
        refused = queue.enqueue(webhook_ids) if webhook_ids else []
    except ClientError:
        refused = webhook_ids
    if refused:
        raise errors.unavailable("Event accepted but not yet queued for delivery; retry the request")


def _redispatch_unsent(session_id: str, key: str) -> str:
    """For a duplicate: re-queue deliveries of the original that never left; returns its type."""
    original = event_store.get(session_id, key) or {}
    logs = delivery_store.get_many(original.get("webhookIds", []))
    _dispatch([log.webhookId for log in logs if log.status == "pending" and log.attempts == 0])
    return original.get("event", "")


def receive(record: SessionRecord, event: NormalizedEvent, raw_body: bytes, now: datetime) -> Receipt:
    """Applies and fans out `event` once; a repeat of an accepted event is answered as a duplicate."""
    key = outbound.event_key(event.dialect, event.gateway_event_id, raw_body)
    event_id = outbound.event_id(record.sessionId, key)
    occurred_at = event.occurred_at or now
    for _ in range(MAX_CONFLICT_RETRIES):
        plan = _plan(record, event, key, event_id, occurred_at, now)
        try:
            ddb.client().transact_write_items(TransactItems=plan.items)
        except ClientError as error:
            codes = ddb.cancellation_codes(error)
            if not codes:
                raise
            if codes[0] == "ConditionalCheckFailed":
                event_type = _redispatch_unsent(record.sessionId, key) or plan.event_type
                return Receipt(eventId=event_id, event=event_type, duplicate=True)
            if plan.session_item is not None and codes[plan.session_item] == "ConditionalCheckFailed":
                fresh = session_store.get(record.sessionId)
                if fresh is None:
                    raise errors.not_found("Session") from error
                record = fresh
                continue
            raise errors.unavailable("Event could not be stored; retry the request") from error
        _dispatch(plan.webhook_ids)
        return Receipt(eventId=event_id, event=plan.event_type, duplicate=False)
    raise errors.unavailable("Session is being updated concurrently; retry the request")
