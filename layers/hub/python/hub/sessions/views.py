"""How sessions look in API responses (docs/contract.md §2, §5)."""

from __future__ import annotations

from typing import Any

from hub.ingest import state
from hub.platform import settings
from hub.sessions import qr
from hub.sessions.models import SessionRecord


def session_status(record: SessionRecord, *, with_image: bool = True) -> dict[str, Any]:
    """The status route's answer; `with_image` False leaves qrImage None (a listing does not show it, so it
    draws no QR)."""
    shown = state.view(record.state, settings.load().max_qr_attempts)
    body: dict[str, Any] = {
        "sessionId": record.sessionId,
        "receiverHandle": record.receiverHandle,
        "status": shown.status.value,
        "message": shown.message,
        "qr": shown.qr,
        "qrImage": qr.shown_image(shown.qr, shown.qr_image) if with_image else None,
        "userId": record.userId,
        "createdAt": record.createdAt,
        "updatedAt": record.updatedAt,
        "isConnected": shown.is_connected,
        "needsQR": shown.needs_qr,
        "isLoading": shown.is_loading,
        "hasError": shown.has_error,
    }
    known = {
        "phoneNumber": record.state.phone_number,
        "displayName": record.state.display_name,
        "qrAttempts": shown.qr_attempts or None,
        "loadingPercent": shown.loading_percent,
        "reason": shown.reason,
        "lastEvent": record.state.last_event,
        "lastEventAt": record.lastEventAt,
    }
    body.update({k: v for k, v in known.items() if v is not None})
    return body


def session_list_item(record: SessionRecord) -> dict[str, Any]:
    item = session_status(record, with_image=False)
    item.pop("qrImage")
    item["hasQR"] = item["qr"] is not None
    item["lastUpdated"] = record.updatedAt
    return item
