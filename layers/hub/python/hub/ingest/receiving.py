"""Accepting one normalized gateway event: state, dedupe and the record that drives fan-out.

Two conditional single-item writes per event, no transaction: the session's new state
(lifecycle events only), then the event record. The event record is the dedupe key and
the commit point: the Events table's stream hands every new record to the dispatcher,
which queues one delivery per subscription, and to the aggregator, which counts usage.
Counters are never written here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from hub.delivery import outbound
from hub.ingest import state
from hub.ingest import store as event_store
from hub.ingest.models import NormalizedEvent, SessionStatus
from hub.ingest.records import EventRecord
from hub.platform import settings
from hub.platform.clock import iso
from hub.platform.exceptions import Unavailable
from hub.sessions import qr
from hub.sessions import store as session_store
from hub.sessions.models import SessionRecord
from hub.tenants import auth

MAX_CONFLICT_RETRIES = 5


class Receipt(BaseModel):
    eventId: str
    event: str
    duplicate: bool


def _session_data(
    event: NormalizedEvent, before: state.SessionView, after: state.SessionView, record: SessionRecord, applied: bool
) -> dict[str, Any]:
    lifecycle = event.lifecycle
    assert lifecycle is not None
    shown = after if applied else None
    data: dict[str, Any] = {
        **event.data,
        "status": (shown.status if shown else lifecycle.status).value,
        "previousStatus": before.status.value,
        "message": shown.message if shown else (lifecycle.message or state.STATUS_MESSAGES[lifecycle.status]),
        "qr": shown.qr if shown else lifecycle.qr,
        "qrImage": qr.shown_image(shown.qr, shown.qr_image) if shown else lifecycle.qr_image,
        "qrAttempts": after.qr_attempts,
        "phoneNumber": lifecycle.phone_number or record.state.phone_number,
        "displayName": lifecycle.display_name or record.state.display_name,
        "reason": shown.reason if shown else lifecycle.reason,
        "loadingPercent": lifecycle.loading_percent,
    }
    if not applied:
        data["stale"] = True
    return {k: v for k, v in data.items() if v is not None}


def _envelope(
    event: NormalizedEvent, event_id: str, occurred_at: datetime, data: dict[str, Any], event_type: str
) -> str:
    return outbound.OutboundEvent(
        id=event_id,
        event=event_type,
        instanceId=event.session_id,
        timestamp=iso(occurred_at),
        data=data,
        source=outbound.Source(dialect=event.dialect, event=event.source_event),
    ).model_dump_json()


class _Lifecycle(BaseModel):
    """What a lifecycle event does to its session, read at one version of it."""

    after: SessionRecord | None
    """The session with the event applied; None when its state already holds the event."""
    data: dict[str, Any]
    event_type: str


def _lifecycle(
    record: SessionRecord, event: NormalizedEvent, order_key: str, occurrence: str, occurred_at: datetime, now: datetime
) -> _Lifecycle:
    config = settings.load()
    before_view = state.view(record.state, config.max_qr_attempts)
    new_state = state.apply(record.state, event, order_key, config.max_qr_attempts, occurrence)
    after_view = state.view(new_state, config.max_qr_attempts)
    applied = new_state.base_key == order_key
    data = _session_data(event, before_view, after_view, record, applied)
    event_type = event.type
    if event_type == "session.qr" and after_view.status is not SessionStatus.QR_GENERATED and applied:
        event_type = "session.status"
    after = None
    if new_state != record.state:
        after = record.model_copy(
            update={
                "state": new_state,
                "status": after_view.status.value,
                "bucket": after_view.bucket,
                "updatedAt": iso(now),
                "lastEventAt": iso(occurred_at) if new_state.last_key != record.state.last_key else record.lastEventAt,
            }
        )
    return _Lifecycle(after=after, data=data, event_type=event_type)


def _apply_to_session(
    record: SessionRecord,
    event: NormalizedEvent,
    order_key: str,
    occurrence: str,
    occurred_at: datetime,
    now: datetime,
    first: _Lifecycle,
) -> None:
    """Stores the session with the event applied, re-reading it when someone else changed it meanwhile.

    Applying an event the state already holds (same order key) changes nothing, so this is safe to repeat.
    """
    outcome = first
    for _ in range(MAX_CONFLICT_RETRIES):
        if outcome.after is None:
            return
        if session_store.save_state(record, outcome.after):
            return
        fresh = session_store.get(record.tenantId, record.sessionId)
        if fresh is None:
            return
        record = fresh
        outcome = _lifecycle(record, event, order_key, occurrence, occurred_at, now)
    raise Unavailable("Session is being updated concurrently; retry the request")


def trusted_time(event: NormalizedEvent, now: datetime) -> NormalizedEvent:
    """`event` with a time that can order it: an event time later than `now` plus MAX_CLOCK_SKEW_SECONDS
    is not trusted, so the receive time orders it and its data says so (`clockSkew`, `reportedTimestamp`)."""
    skew = timedelta(seconds=settings.load().max_clock_skew_seconds)
    if event.occurred_at is None or event.occurred_at <= now + skew:
        return event
    data = {**event.data, "clockSkew": True, "reportedTimestamp": iso(event.occurred_at)}
    return event.model_copy(update={"occurred_at": now, "data": data})


def receive(record: SessionRecord, event: NormalizedEvent, raw_body: bytes, now: datetime) -> Receipt:
    """Records one occurrence of `event` and applies it to its session; a retry of a recorded occurrence
    is a duplicate and gets the recorded occurrence's id back.

    The occurrence key (hub.delivery.outbound.occurrence_key) is scoped to this incarnation of the tenant's
    session (tenant id and creation time), so a session id reused after a deletion starts afresh.
    The event record is written first: it is the dedupe key and the commit point (the table's
    stream hands it to the dispatcher and the aggregator, so a recorded event is always
    delivered). Then the session. If the session write fails, the gateway gets a 5xx and its
    retry, a duplicate, applies the state with the order key recorded the first time: the
    state is a function of the set of events, so applying an event twice changes nothing.
    """
    event = trusted_time(event, now)
    occurrence = outbound.occurrence_key(event, raw_body, record.state.last_key, record.state.last_occurrence)
    key = outbound.scoped_key(record.tenantId, record.createdAt, occurrence)
    event_id = outbound.event_id(record.tenantId, record.sessionId, key, iso(now))
    occurred_at = event.occurred_at or now
    order_key = state.order_key(occurred_at, event_id)
    config = settings.load()
    lifecycle = (
        _lifecycle(record, event, order_key, occurrence, occurred_at, now) if event.lifecycle is not None else None
    )
    event_type = lifecycle.event_type if lifecycle else event.type
    payload = _envelope(event, event_id, occurred_at, lifecycle.data if lifecycle else event.data, event_type)
    targets = [sub.target(record.createdAt) for sub in record.subscriptions if sub.wants(event_type)] + [
        sub.target(record.createdAt, tenant_wide=True)
        for sub in auth.standing(record.tenantId).subscriptions
        if sub.wants(event_type)
    ]
    dedupe_window = timedelta(hours=config.dedupe_window_hours)
    # The record holds the payload its delivery logs send and show: kept as long as they are (their TTL).
    keep = max(dedupe_window, timedelta(days=config.log_retention_days)) if targets else dedupe_window
    original = event_store.record(
        record.sessionId,
        key,
        EventRecord(
            eventId=event_id,
            event=event_type,
            tenantId=record.tenantId,
            receivedAt=iso(now),
            orderKey=order_key if lifecycle else None,
            payload=payload,
            targets=targets,
        ),
        iso(now - dedupe_window),
        int((now + keep).timestamp()),
    )
    if original is not None:
        if lifecycle and original.orderKey:
            recorded = _lifecycle(record, event, original.orderKey, occurrence, occurred_at, now)
            _apply_to_session(record, event, original.orderKey, occurrence, occurred_at, now, recorded)
        return Receipt(eventId=original.eventId, event=original.event, duplicate=True)
    if lifecycle:
        _apply_to_session(record, event, order_key, occurrence, occurred_at, now, lifecycle)
    return Receipt(eventId=event_id, event=event_type, duplicate=False)
