"""How sessions look in API responses (docs/contract.md §2, §5)."""

from __future__ import annotations

from typing import Any

from hub import settings, state
from hub.store.sessions import SessionRecord


def session_status(record: SessionRecord) -> dict[str, Any]:
    shown = state.view(record.state, settings.load().max_qr_attempts)
    body: dict[str, Any] = {
        "sessionId": record.sessionId,
        "status": shown.status.value,
        "message": shown.message,
        "qr": shown.qr,
        "qrImage": shown.qr_image,
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
    item = session_status(record)
    item.pop("qrImage")
    item["hasQR"] = item["qr"] is not None
    item["lastUpdated"] = record.updatedAt
    return item
