"""The session state machine (docs/contract.md §5): pure functions, no AWS.

State is a function of the *set* of events applied, not of their arrival order:
status-bearing fields come from the newest lifecycle event (by event time, ties
broken by event id), and the QR attempt count from the QR events newer than the
last event that ended a QR cycle. Applying a late event therefore never rolls the
state back, and any arrival order ends in the same state.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from hub.ingest.models import Lifecycle, NormalizedEvent, SessionStatus

S = SessionStatus

LOADING_STATUSES = frozenset({S.LOADING, S.CONNECTING, S.INITIALIZING, S.RECONNECTING, S.AUTHENTICATED})
ERROR_STATUSES = frozenset({S.AUTH_FAILURE, S.ERROR})
QR_CYCLE_CONTINUES = frozenset({S.QR_GENERATED, S.CONNECTING, S.LOADING, S.RECONNECTING})
"""Statuses that keep counting QR attempts; any other lifecycle event starts a new cycle."""

MAX_QR_REASON = "max_qr_attempts_reached"

STATUS_MESSAGES: dict[SessionStatus, str] = {
    S.INITIALIZING: "Session is initializing",
    S.QR_GENERATED: "QR code generated, scan to connect",
    S.CONNECTING: "Connecting to WhatsApp",
    S.LOADING: "Loading WhatsApp session",
    S.AUTHENTICATED: "Authenticated, finishing connection",
    S.SESSION_CONNECTED: "WhatsApp session connected successfully",
    S.RECONNECTING: "Connection lost, reconnecting",
    S.SESSION_NOT_CONNECTED: "WhatsApp session is not connected",
    S.LOGGED_OUT: "Logged out from the phone, scan a new QR code to reconnect",
    S.AUTH_FAILURE: "Authentication failed",
    S.ERROR: "Session error",
}
AUTO_DISCONNECT_MESSAGE = "Too many QR codes without a scan, session disconnected"

BUCKETS = ("connected", "needsQR", "loading", "error", "disconnected")


def order_key(occurred_at: datetime, event_id: str) -> str:
    """A string that sorts events by time, then id: the total order state follows."""
    moment = occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{moment}|{event_id}"


class SessionState(BaseModel):
    """What the hub knows about a session, as stored (minus keys and ownership)."""

    model_config = ConfigDict(frozen=True)

    base_status: SessionStatus = S.INITIALIZING
    base_key: str = ""
    qr: str | None = None
    qr_image: str | None = None
    reason: str | None = None
    gateway_message: str | None = None
    loading_percent: int | None = None
    phone_number: str | None = None
    phone_key: str = ""
    display_name: str | None = None
    display_key: str = ""
    cycle_key: str = ""
    qr_keys: tuple[str, ...] = ()
    last_event: str | None = None
    last_key: str = ""
    last_occurrence: str = ""
    """The dedupe key (hub.delivery.outbound.occurrence_key) of the event at `last_key`."""

    @property
    def qr_attempts(self) -> int:
        return len(self.qr_keys)

    def auto_disconnected(self, max_qr_attempts: int) -> bool:
        return self.base_status is S.QR_GENERATED and self.qr_attempts > max_qr_attempts


class SessionView(BaseModel):
    """The state as clients see it: derived status, message, QR and flags."""

    model_config = ConfigDict(frozen=True)

    status: SessionStatus
    message: str
    qr: str | None
    qr_image: str | None
    reason: str | None
    loading_percent: int | None
    qr_attempts: int
    is_connected: bool
    needs_qr: bool
    is_loading: bool
    has_error: bool
    bucket: str


def view(state: SessionState, max_qr_attempts: int) -> SessionView:
    reason: str | None
    if state.auto_disconnected(max_qr_attempts):
        status, message, qr, qr_image, reason = (
            S.SESSION_NOT_CONNECTED,
            AUTO_DISCONNECT_MESSAGE,
            None,
            None,
            MAX_QR_REASON,
        )
    else:
        status, reason = state.base_status, state.reason
        message = state.gateway_message or STATUS_MESSAGES[status]
        holds_qr = status is S.QR_GENERATED
        qr = state.qr if holds_qr else None
        qr_image = state.qr_image if holds_qr else None
    needs_qr = status is S.QR_GENERATED and qr is not None
    flags = {
        "is_connected": status is S.SESSION_CONNECTED,
        "needs_qr": needs_qr,
        "is_loading": status in LOADING_STATUSES,
        "has_error": status in ERROR_STATUSES,
    }
    return SessionView(
        status=status,
        message=message,
        qr=qr,
        qr_image=qr_image,
        reason=reason,
        loading_percent=state.loading_percent if status is S.LOADING else None,
        qr_attempts=state.qr_attempts,
        bucket=bucket_of(status, needs_qr),
        **flags,
    )


def bucket_of(status: SessionStatus, needs_qr: bool) -> str:
    """The one summary bucket a session counts in (docs/contract.md §5)."""
    if status is S.SESSION_CONNECTED:
        return "connected"
    if needs_qr:
        return "needsQR"
    if status in LOADING_STATUSES:
        return "loading"
    if status in ERROR_STATUSES:
        return "error"
    return "disconnected"


def _newer(key: str, than: str) -> bool:
    return key > than


def _apply_lifecycle(state: SessionState, lifecycle: Lifecycle, key: str, max_qr_attempts: int) -> SessionState:
    changes: dict = {}
    if lifecycle.phone_number and _newer(key, state.phone_key):
        changes.update(phone_number=lifecycle.phone_number, phone_key=key)
    if lifecycle.display_name and _newer(key, state.display_key):
        changes.update(display_name=lifecycle.display_name, display_key=key)

    cycle_key, qr_keys = state.cycle_key, state.qr_keys
    if lifecycle.status is S.QR_GENERATED:
        if _newer(key, cycle_key) and key not in qr_keys:
            qr_keys = tuple(sorted(qr_keys + (key,))[-(max_qr_attempts + 1) :])
    elif lifecycle.status not in QR_CYCLE_CONTINUES and _newer(key, cycle_key):
        cycle_key = key
        qr_keys = tuple(k for k in qr_keys if k > cycle_key)
    changes.update(cycle_key=cycle_key, qr_keys=qr_keys)

    if _newer(key, state.base_key):
        changes.update(
            base_status=lifecycle.status,
            base_key=key,
            qr=lifecycle.qr if lifecycle.status is S.QR_GENERATED else None,
            qr_image=lifecycle.qr_image if lifecycle.status is S.QR_GENERATED else None,
            reason=lifecycle.reason,
            gateway_message=lifecycle.message,
            loading_percent=lifecycle.loading_percent,
        )
    return state.model_copy(update=changes)


def apply(
    state: SessionState, event: NormalizedEvent, key: str, max_qr_attempts: int, occurrence: str = ""
) -> SessionState:
    """The state after `event`, whose place in the event order is `key` (see order_key) and whose
    dedupe key is `occurrence`.

    Only session-lifecycle events change state; `last_event` is the newest of them.
    """
    if event.lifecycle is None:
        return state
    if _newer(key, state.last_key):
        state = state.model_copy(update={"last_event": event.type, "last_key": key, "last_occurrence": occurrence})
    return _apply_lifecycle(state, event.lifecycle, key, max_qr_attempts)
