"""Erasing what the hub holds for a deleted session or a revoked tenant, within one request's time budget.

A big tenant can hold more than one request may delete before API Gateway's 29 s timeout, so a
purge works until its deadline (catalog.REQUEST_WORK_BUDGET_S) and says whether it finished;
repeating the request carries on (what was erased is not found again, so no cursor is needed).

- events: deleted (otherwise they expire with their dedupe TTL, DEDUPE_WINDOW_HOURS);
- delivery logs: finished ones deleted; pending and retrying ones cancelled (marked failed, payload
  dropped), so the worker skips every queued copy, and removed by their TTL (WEBHOOK_LOG_RETENTION_DAYS
  after creation, longer than any copy stays queued);
- sessions (revocation): deleted last, each once its events are gone, so their ids are free again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hub.delivery import store as delivery_store
from hub.delivery.models import Sweep
from hub.ingest import store as event_store
from hub.platform import catalog
from hub.sessions import store as session_store

SESSION_DELETED = "cancelled: session deleted"
TENANT_REVOKED = "cancelled: tenant revoked"
SESSIONS_PAGE = 25


def deadline(budget_s: float | None = None) -> float:
    """The monotonic time by which a request's bulk work stops."""
    return time.monotonic() + (catalog.REQUEST_WORK_BUDGET_S if budget_s is None else budget_s)


@dataclass
class Purge:
    sessions: int = 0
    events: int = 0
    logs: int = 0
    cancelled_deliveries: int = 0
    complete: bool = False

    def add_logs(self, sweep: Sweep) -> bool:
        self.logs += sweep.deleted
        self.cancelled_deliveries += sweep.cancelled
        return sweep.complete

    def public(self) -> dict[str, object]:
        return {
            "purge": {
                "complete": self.complete,
                "deleted": {"sessions": self.sessions, "events": self.events, "logs": self.logs},
                "cancelledDeliveries": self.cancelled_deliveries,
            }
        }


def purge_session(tenant_id: str, session_id: str, until: float) -> Purge:
    """Erases a deleted session's events and delivery logs (the session record is already gone)."""
    purge = Purge()
    logs_done = purge.add_logs(delivery_store.sweep(tenant_id, session_id, until=until, cancel_reason=SESSION_DELETED))
    purge.events, events_done = event_store.delete_of_session(session_id, tenant_id, until)
    purge.complete = logs_done and events_done
    return purge


def purge_tenant(tenant_id: str, until: float) -> Purge:
    """Erases a revoked tenant's delivery logs, then each session's events and the session itself."""
    purge = Purge()
    if not purge.add_logs(delivery_store.sweep(tenant_id, None, until=until, cancel_reason=TENANT_REVOKED)):
        return purge
    cursor = None
    while time.monotonic() < until:
        records, cursor = session_store.query_page(
            tenant_id, user_id=None, status=None, limit=SESSIONS_PAGE, cursor=cursor
        )
        for record in records:
            deleted, events_done = event_store.delete_of_session(record.sessionId, tenant_id, until)
            purge.events += deleted
            if not events_done:
                return purge
            session_store.remove(record)
            purge.sessions += 1
        if not cursor:
            purge.complete = True
            return purge
    return purge
