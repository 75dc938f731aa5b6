"""What a connect link lets its holder watch, and the messages pushed to watchers (docs/connect.md)."""

from __future__ import annotations

from typing import Any

from hub.connect import links
from hub.connect import store as connections
from hub.platform import ddb, settings
from hub.sessions import store as session_store
from hub.sessions import views
from hub.sessions.models import SessionRecord
from hub.tenants import store as tenants

MAX_USER_SESSIONS = 100
"""Sessions a user link shows (one page of the owner index)."""


def sessions(link: links.Link) -> list[SessionRecord]:
    """The sessions the link names, as they are now; LINK_REVOKED once its tenant or its session is gone.

    A session link never shows another session: the session must still be the link's tenant's.
    """
    if not tenants.is_active(link.tenant_id):
        raise links.link_revoked()
    if link.session_id is not None:
        record = session_store.get(link.tenant_id, link.session_id)
        if record is None or revoked(record, link.issued_at_ms):
            raise links.link_revoked()
        return [record]
    records, _ = session_store.query_page(
        link.tenant_id, user_id=link.user_id, status=None, limit=MAX_USER_SESSIONS, cursor=None
    )
    return records


def watch_key(record: SessionRecord) -> str:
    """What the Connections table knows a watched session by (sessions of two tenants may share an id)."""
    return session_store.session_key(record.tenantId, record.sessionId)


def watch(connection_id: str, session_keys: list[str], until: int, link_kind: str) -> None:
    """Records that the connection (opened with a link of `link_kind`) watches these sessions (their watch keys)
    until `until`."""
    connections.add(connection_id, session_keys, until, link_kind)


def forget(connection_id: str) -> None:
    """The connection closed: it watches nothing any more."""
    connections.remove(connection_id)


def revoked(record: SessionRecord, issued_at_ms: int) -> bool:
    """True when the session's links were revoked at or after this moment (a link's issue, a connection's start)."""
    return record.linksRevokedAt is not None and issued_at_ms <= record.linksRevokedAt


def snapshot(link: links.Link, records: list[SessionRecord], websocket_url: str) -> dict[str, Any]:
    """The token-scoped status route's answer."""
    return {
        "kind": link.kind,
        "userId": link.user_id,
        "expiresAt": link.expires_at,
        "websocketUrl": websocket_url or None,
        "maxQrAttempts": settings.load().max_qr_attempts,
        "sessions": [page_view(r) for r in records],
    }


def page_view(record: SessionRecord) -> dict[str, Any]:
    """The session as the connect page shows it: the status view without the gateway's raw QR string."""
    view = views.session_status(record)
    view.pop("qr")
    return view


PUSHED_FIELDS = ("status", "message", "qrImage", "qrAttempts", "loadingPercent", "phoneNumber", "displayName", "reason")


def session_of_image(image: dict[str, Any] | None) -> SessionRecord | None:
    """The session a Sessions stream image holds (as Powertools deserializes it), or None for no image; pydantic's
    ValidationError when it is not a session the hub wrote."""
    values = ddb.plain_image(image) if image else None
    return session_store.from_values(values) if values else None


def change_message(old: SessionRecord | None, new: SessionRecord | None) -> dict[str, Any] | None:
    """The message to push for one Sessions stream record, or None when nothing a watcher sees changed."""
    if new is None:
        return {"type": "session.deleted", "sessionId": old.sessionId} if old else None
    if new.linksRevokedAt is not None and new.linksRevokedAt != (old.linksRevokedAt if old else None):
        return {"type": "link.revoked", "sessionId": new.sessionId, "revokedAt": new.linksRevokedAt}
    shown = page_view(new)
    if old is not None:
        before = page_view(old)
        if all(before.get(f) == shown.get(f) for f in PUSHED_FIELDS):
            return None
    return {"type": "session.status", "session": shown}
